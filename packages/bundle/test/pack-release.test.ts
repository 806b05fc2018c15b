import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { extractRelease, packRelease, type PackResult } from '../src/index.js';
import { hygieneReason } from '../src/release-tree.js';
import { PACK_MTIME } from '../src/deterministic-tar.js';

let base: string;
let counter = 0;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'swarm-pack-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

const manifest = { name: 'web', version: '1.0.0', start: ['node', 'server.js'] };

/** Write `files` (path → content; a `{ link }` makes a symlink, `{ dir }` an empty directory) under a fresh tree. */
async function makeTree(
  files: Record<string, string | { link: string } | { dir: true }>,
  release: object = manifest,
): Promise<string> {
  const root = join(base, `tree-${++counter}`);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'release.json'), JSON.stringify(release));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof content === 'string') await writeFile(full, content);
    else if ('link' in content) await symlink(content.link, full);
    else await mkdir(full, { recursive: true });
  }
  return root;
}

function out(name = 'out'): string {
  return join(base, `${name}-${++counter}.tgz`);
}

interface ListedEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkpath?: string;
  size: number;
}

/** Every entry header of a tarball, in order, as node-tar parses them. */
async function listTarball(file: string): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (e: ReadEntry) => {
    entries.push({
      path: e.path,
      type: e.type,
      mode: e.mode ?? -1,
      uid: e.uid ?? -1,
      gid: e.gid ?? -1,
      uname: e.uname ?? '',
      gname: e.gname ?? '',
      mtime: e.mtime?.getTime() ?? -1,
      size: e.size,
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    });
    e.resume();
  });
  parser.end(await readFile(file));
  return entries;
}

async function paths(file: string): Promise<string[]> {
  return (await listTarball(file)).map((e) => e.path);
}

describe('packRelease determinism', () => {
  const files = {
    'server.js': 'console.log("hi")\n',
    'lib/a.js': 'export const a = 1;\n',
    'lib/b.js': 'export const b = 2;\n',
    'bin/run.sh': '#!/bin/sh\necho run\n',
    'assets/empty': { dir: true as const },
    'current.js': { link: 'lib/a.js' },
  };

  test('the same tree packed twice gives the same sha256 and bytes', async () => {
    const tree = await makeTree(files);
    const first = await packRelease({ tree, out: out() });
    const second = await packRelease({ tree, out: out() });
    assert.equal(first.sha256, second.sha256);
    assert.deepEqual(await readFile(first.file), await readFile(second.file));
    assert.equal(
      first.sha256,
      createHash('sha256')
        .update(await readFile(first.file))
        .digest('hex'),
    );
    assert.equal(first.size, (await stat(first.file)).size);
  });

  test('touching files, changing mtimes/atimes and group/other mode bits changes nothing', async () => {
    const tree = await makeTree(files);
    await chmod(join(tree, 'bin/run.sh'), 0o755);
    const before = await packRelease({ tree, out: out() });
    const past = new Date('1999-05-05T05:05:05Z');
    for (const p of ['server.js', 'lib/a.js', 'lib', 'bin/run.sh', 'release.json']) {
      await utimes(join(tree, p), new Date(), past);
    }
    await chmod(join(tree, 'lib/b.js'), 0o664);
    await chmod(join(tree, 'bin/run.sh'), 0o775);
    await chmod(join(tree, 'lib'), 0o775);
    const afterTouch = await packRelease({ tree, out: out() });
    assert.equal(afterTouch.sha256, before.sha256);
  });

  test('a tree built in another order, on another path, gives the same sha256', async () => {
    const tree1 = await makeTree(files);
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    const tree2 = await makeTree(reversed);
    await chmod(join(tree1, 'bin/run.sh'), 0o755);
    await chmod(join(tree2, 'bin/run.sh'), 0o700);
    const a = await packRelease({ tree: tree1, out: out() });
    const b = await packRelease({ tree: tree2, out: out() });
    assert.equal(a.sha256, b.sha256);
  });

  test('a content change changes the sha256', async () => {
    const tree = await makeTree(files);
    const a = await packRelease({ tree, out: out() });
    await writeFile(join(tree, 'lib/a.js'), 'export const a = 2;\n');
    const b = await packRelease({ tree, out: out() });
    assert.notEqual(a.sha256, b.sha256);
  });

  test('headers are normalized: sorted, 0:0 without names, fixed mtime, 0755/0644 modes', async () => {
    const tree = await makeTree(files);
    await chmod(join(tree, 'bin/run.sh'), 0o744);
    await chmod(join(tree, 'server.js'), 0o600);
    const result = await packRelease({ tree, out: out() });
    const entries = await listTarball(result.file);
    assert.deepEqual(
      entries.map((e) => e.path),
      [
        'assets/',
        'assets/empty/',
        'bin/',
        'bin/run.sh',
        'current.js',
        'lib/',
        'lib/a.js',
        'lib/b.js',
        'release.json',
        'server.js',
      ],
    );
    for (const e of entries) {
      assert.equal(e.uid, 0, e.path);
      assert.equal(e.gid, 0, e.path);
      assert.equal(e.uname, '', e.path);
      assert.equal(e.gname, '', e.path);
      assert.equal(e.mtime, PACK_MTIME.getTime(), e.path);
    }
    const mode = (p: string) => entries.find((e) => e.path === p)!.mode;
    assert.equal(mode('bin/'), 0o755);
    assert.equal(mode('bin/run.sh'), 0o755);
    assert.equal(mode('server.js'), 0o644);
    assert.equal(entries.find((e) => e.path === 'current.js')!.linkpath, 'lib/a.js');
    assert.equal(result.fileCount, 6);
  });

  test('setuid, setgid and sticky bits in the tree are never packed (the updater would refuse them)', async () => {
    const tree = await makeTree(files);
    await chmod(join(tree, 'bin/run.sh'), 0o4755);
    await chmod(join(tree, 'server.js'), 0o2644);
    await chmod(join(tree, 'lib'), 0o2775);
    await chmod(join(tree, 'assets/empty'), 0o1777);
    // The modes really are on disk (the test could not fail otherwise).
    assert.equal((await stat(join(tree, 'bin/run.sh'))).mode & 0o7000, 0o4000);
    assert.equal((await stat(join(tree, 'lib'))).mode & 0o7000, 0o2000);
    const result = await packRelease({ tree, out: out() });
    const entries = await listTarball(result.file);
    for (const e of entries) assert.equal(e.mode & 0o7000, 0, `${e.path} packed with mode ${e.mode.toString(8)}`);
    const mode = (p: string) => entries.find((e) => e.path === p)!.mode;
    assert.equal(mode('bin/run.sh'), 0o755);
    assert.equal(mode('server.js'), 0o644);
    assert.equal(mode('lib/'), 0o755);
    assert.equal(mode('assets/empty/'), 0o755);
    // And the updater's rules accept what was packed.
    const dest = join(base, `extract-${++counter}`);
    await extractRelease(result.file, dest);
    assert.equal((await stat(join(dest, 'bin/run.sh'))).mode & 0o7777, 0o755);
  });

  test('the gzip header carries no name, no time, and a fixed OS byte', async () => {
    const tree = await makeTree(files);
    const bytes = await readFile((await packRelease({ tree, out: out() })).file);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x1f, 0x8b, 8, 0]); // deflate, no FNAME/FEXTRA/FCOMMENT
    assert.equal(bytes.readUInt32LE(4), 0); // MTIME
    assert.equal(bytes[9], 3); // OS: Unix, whatever platform packed it
  });

  test('long and non-ASCII names round-trip through PAX headers, and GNU tar reads them', async () => {
    const long = `${'deep/'.repeat(30)}file-ünïcødé-${'x'.repeat(120)}.txt`;
    const tree = await makeTree({ [long]: 'long\n', link: { link: long } });
    const result = await packRelease({ tree, out: out() });
    assert.ok((await paths(result.file)).includes(long));
    const gnu = execFileSync('tar', ['tzf', result.file], { encoding: 'utf8' }).split('\n');
    assert.ok(gnu.includes(long), 'GNU tar does not list the long name');
    const dest = join(base, `x-${++counter}`);
    await extractRelease(result.file, dest);
    assert.equal(await readFile(join(dest, long), 'utf8'), 'long\n');
    assert.equal(await readlink(join(dest, 'link')), long);
  });
});

describe('packRelease contents', () => {
  test('hygiene: secrets, VCS data, .swarm and caches never ship, and are reported', async () => {
    const tree = await makeTree({
      'server.js': 'x',
      'tls.key': 'PRIVATE',
      'certs/server.pem': 'PRIVATE',
      '.env': 'SECRET=1',
      '.env.production': 'SECRET=2',
      '.envrc': 'ships',
      '.git/HEAD': 'ref: refs/heads/main',
      'sub/.git/config': 'x',
      '.swarm/state': 'x',
      'node_modules/.cache/big': 'x',
      'node_modules/dep/index.js': 'ships',
      'web-0.9.0.tgz': 'an earlier release',
    });
    const result = await packRelease({ tree, out: out() });
    const listed = await paths(result.file);
    for (const p of [
      'tls.key',
      'certs/server.pem',
      '.env',
      '.env.production',
      '.git/',
      '.git/HEAD',
      'sub/.git/',
      '.swarm/',
      'node_modules/.cache/',
      'web-0.9.0.tgz',
    ]) {
      assert.ok(!listed.includes(p), `${p} was packed`);
    }
    for (const p of ['.envrc', 'node_modules/dep/index.js', 'server.js', 'certs/', 'release.json']) {
      assert.ok(listed.includes(p), `${p} is missing`);
    }
    const skipped = result.skipped.map((s) => s.path).sort();
    assert.deepEqual(skipped, [
      '.env',
      '.env.production',
      '.git',
      '.swarm',
      'certs/server.pem',
      'node_modules/.cache',
      'sub/.git',
      'tls.key',
      'web-0.9.0.tgz',
    ]);
    // The secrets are not anywhere in the bytes either.
    assert.ok(!gunzipSync(await readFile(result.file)).includes('PRIVATE'));
  });

  test('hygieneReason names the rule', () => {
    assert.match(hygieneReason('a/b.key', manifest)!, /key material/);
    assert.equal(hygieneReason('keys/readme.md', manifest), undefined);
  });

  test('allowlist: only the listed files and directories (recursively) plus release.json ship', async () => {
    const tree = await makeTree(
      {
        'dist/index.js': 'x',
        'dist/sub/deep.js': 'x',
        'dist/.env': 'SECRET',
        'server.js': 'x',
        'src/index.ts': 'x',
        'config/public/ca.pem': 'PUBLIC CERT',
        'config/other.json': 'x',
        'README.md': 'x',
      },
      { ...manifest, files: ['dist', 'server.js', 'config/public/ca.pem'] },
    );
    const result = await packRelease({ tree, out: out() });
    assert.deepEqual(await paths(result.file), [
      'config/',
      'config/public/',
      'config/public/ca.pem',
      'dist/',
      'dist/index.js',
      'dist/sub/',
      'dist/sub/deep.js',
      'release.json',
      'server.js',
    ]);
    assert.deepEqual(result.skipped, [{ path: 'dist/.env', reason: 'environment file (.env, .env.*)' }]);
  });

  test('allowlist naming a path that is not in the tree is SWARM_ERR_PACK_TREE_INVALID', async () => {
    const tree = await makeTree({ 'server.js': 'x' }, { ...manifest, files: ['server.js', 'dist', 'lib/x.js'] });
    await assert.rejects(packRelease({ tree, out: out() }), (err: any) => {
      assert.equal(err.code, 'SWARM_ERR_PACK_TREE_INVALID');
      assert.deepEqual(err.details.problems, [
        'files lists "dist", which is not in the tree',
        'files lists "lib/x.js", which is not in the tree',
      ]);
      return true;
    });
  });

  test('exclude: the master home inside the tree never ships', async () => {
    const tree = await makeTree({ 'server.js': 'x', 'home/ca/ca.crt': 'x', 'home/registry.db': 'x' });
    const result = await packRelease({ tree, out: out(), exclude: [join(tree, 'home')] });
    assert.ok(!(await paths(result.file)).some((p) => p.startsWith('home')));
    assert.deepEqual(result.skipped, [{ path: 'home', reason: 'excluded' }]);
  });

  test('the output file inside the tree is never packed into itself', async () => {
    const tree = await makeTree({ 'server.js': 'x' });
    const file = join(tree, 'release.tgz');
    const first = await packRelease({ tree, out: file });
    const second = await packRelease({ tree, out: file });
    assert.equal(first.sha256, second.sha256);
    assert.ok(!(await paths(file)).includes('release.tgz'));
  });

  test('default output is <name>-<version>.tgz in the current directory', async (t) => {
    const tree = await makeTree({ 'server.js': 'x' });
    const cwd = process.cwd();
    process.chdir(tree);
    t.after(() => process.chdir(cwd));
    const result: PackResult = await packRelease({ tree: '.' });
    assert.equal(result.file, join(tree, 'web-1.0.0.tgz'));
    assert.deepEqual([result.name, result.version], ['web', '1.0.0']);
    assert.ok((await stat(result.file)).isFile());
    // No temporary file is left beside it.
    assert.deepEqual(
      (await readdir(tree)).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('symlinks: kept when they stay inside, skipped and reported when they could leave', async () => {
    const tree = await makeTree({
      'lib/a.js': 'x',
      inside: { link: 'lib/a.js' },
      'lib/up': { link: '../inside' },
      abs: { link: '/etc/passwd' },
      escape: { link: '../../outside' },
      sneaky: { link: 'lib/../../x' },
    });
    const result = await packRelease({ tree, out: out() });
    const entries = await listTarball(result.file);
    assert.deepEqual(
      entries.filter((e) => e.type === 'SymbolicLink').map((e) => [e.path, e.linkpath]),
      [
        ['inside', 'lib/a.js'],
        ['lib/up', '../inside'],
      ],
    );
    assert.deepEqual(result.skipped.map((s) => s.path).sort(), ['abs', 'escape', 'sneaky']);
    assert.match(result.skipped.find((s) => s.path === 'abs')!.reason, /absolute symlink target/);
  });

  test('a missing or invalid release.json fails with the manifest codes', async () => {
    const noManifest = join(base, `bare-${++counter}`);
    await mkdir(noManifest);
    await assert.rejects(packRelease({ tree: noManifest, out: out() }), { code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING' });
    const badJson = await makeTree({});
    await writeFile(join(badJson, 'release.json'), '{ nope');
    await assert.rejects(packRelease({ tree: badJson, out: out() }), { code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID' });
    const invalid = await makeTree({}, { name: 'web' });
    await assert.rejects(packRelease({ tree: invalid, out: out() }), (err: any) => {
      assert.equal(err.code, 'SWARM_ERR_RELEASE_MANIFEST_INVALID');
      assert.equal(err.details.problems.length, 2);
      return true;
    });
  });

  test('a missing tree, or a file instead of a tree, is SWARM_ERR_PACK_TREE_INVALID', async () => {
    await assert.rejects(packRelease({ tree: join(base, 'no-such-tree'), out: out() }), {
      code: 'SWARM_ERR_PACK_TREE_INVALID',
    });
    const file = join(base, `file-${++counter}`);
    await writeFile(file, 'x');
    await assert.rejects(packRelease({ tree: file, out: out() }), { code: 'SWARM_ERR_PACK_TREE_INVALID' });
  });

  test('an unwritable output is SWARM_ERR_PACK_OUT_UNWRITABLE and leaves nothing behind', async () => {
    const tree = await makeTree({ 'server.js': 'x' });
    const blocker = join(base, `blocker-${++counter}`);
    await writeFile(blocker, 'a file where a directory should be');
    await assert.rejects(packRelease({ tree, out: join(blocker, 'out.tgz') }), {
      code: 'SWARM_ERR_PACK_OUT_UNWRITABLE',
    });
  });

  test('pack → extract round trip: same files, contents, modes and links', async () => {
    const tree = await makeTree({
      'server.js': 'console.log(1)\n',
      'bin/run.sh': '#!/bin/sh\n',
      'lib/deep/x.json': '{"a":1}',
      'empty/': { dir: true },
      zero: '',
      current: { link: 'lib/deep/x.json' },
    });
    await chmod(join(tree, 'bin/run.sh'), 0o755);
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'abc');
    await writeFile(join(tree, 'big.bin'), big);
    const result = await packRelease({ tree, out: out() });
    const dest = join(base, `roundtrip-${++counter}`);
    const extracted = await extractRelease(result.file, dest);
    assert.deepEqual(extracted.manifest, manifest);
    assert.equal(extracted.entries, (await listTarball(result.file)).length);
    assert.equal(extracted.bytes, big.length + 15 + 10 + 7 + JSON.stringify(manifest).length);
    for (const p of ['server.js', 'bin/run.sh', 'lib/deep/x.json', 'zero', 'release.json']) {
      assert.deepEqual(await readFile(join(dest, p)), await readFile(join(tree, p)), p);
    }
    assert.deepEqual(await readFile(join(dest, 'big.bin')), big);
    assert.equal((await stat(join(dest, 'bin/run.sh'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(dest, 'server.js'))).mode & 0o7777, 0o644);
    assert.equal((await stat(join(dest, 'lib/deep'))).mode & 0o7777, 0o755);
    assert.ok((await lstat(join(dest, 'empty'))).isDirectory());
    assert.equal(await readlink(join(dest, 'current')), 'lib/deep/x.json');
  });
});
