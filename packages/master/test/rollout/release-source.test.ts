/**
 * prepareRelease: a tree is packed into a temporary tarball; a given tarball is checked with
 * the updater's rules in one read that writes nothing (no scratch extraction any more).
 * Hostile tarballs are made by GNU tar, which stores what it is given.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packRelease } from '@swarm/bundle';
import { prepareRelease } from '../../src/index.js';

let base: string;
let tree: string;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'swarm-release-source-'));
  tree = join(base, 'tree');
  await mkdir(join(tree, 'lib'), { recursive: true });
  await writeFile(
    join(tree, 'release.json'),
    JSON.stringify({ name: 'web', version: '2.0.1', start: ['node', 'x.js'] }),
  );
  await writeFile(join(tree, 'x.js'), 'console.log(1)\n');
  await writeFile(join(tree, 'lib', 'data.bin'), Buffer.alloc(100_000, 3));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Run `fn` with os.tmpdir() pointing at a fresh, empty directory; returns what is left in it. */
async function inFreshTmp(fn: () => Promise<void>): Promise<string[]> {
  const tmp = await mkdtemp(join(base, 'tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return readdir(tmp);
}

/** A gzipped tarball of `dir`'s contents, made by GNU tar. */
function gnuTar(dir: string, out: string): string {
  execFileSync('tar', ['-czf', out, '-C', dir, '.']);
  return out;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  let code = '';
  await assert.rejects(promise, (err: any) => {
    code = err.code;
    return true;
  });
  return code;
}

describe('prepareRelease', () => {
  it('checks a given tarball in one read: name, version, digest and size, nothing written anywhere', async () => {
    const packed = await packRelease({ tree, out: join(base, 'web.tgz') });
    let release: Awaited<ReturnType<typeof prepareRelease>> | undefined;
    const left = await inFreshTmp(async () => {
      release = await prepareRelease({ tarball: packed.file });
    });
    assert.deepEqual(left, [], 'prepareRelease wrote into the temporary directory');
    const { dispose, ...fields } = release!;
    assert.deepEqual(fields, {
      name: 'web',
      version: '2.0.1',
      sha256: createHash('sha256')
        .update(await readFile(packed.file))
        .digest('hex'),
      size: (await stat(packed.file)).size,
      file: packed.file,
    });
    assert.equal(fields.sha256, packed.sha256);
    await dispose();
    await access(packed.file); // the operator's tarball is theirs: dispose never deletes it
  });

  it("refuses a tarball the updaters would refuse, with the updater's codes", async () => {
    const cases: { name: string; make: (dir: string) => Promise<void>; code: string }[] = [
      {
        name: 'a symlink escaping the release',
        make: async (dir) => symlink('../../etc', join(dir, 'up')),
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      },
      {
        name: 'an invalid release.json',
        make: (dir) => writeFile(join(dir, 'release.json'), JSON.stringify({ name: 'web', start: 'node x.js' })),
        code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
      },
      {
        name: 'no release.json',
        make: (dir) => rm(join(dir, 'release.json')),
        code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING',
      },
    ];
    for (const c of cases) {
      const dir = await mkdtemp(join(base, 'hostile-'));
      await writeFile(join(dir, 'release.json'), JSON.stringify({ name: 'web', version: '1.0.0', start: ['x'] }));
      await c.make(dir);
      const tarball = gnuTar(dir, `${dir}.tgz`);
      assert.equal(await codeOf(prepareRelease({ tarball })), c.code, c.name);
    }
    const garbage = join(base, 'garbage.tgz');
    await writeFile(garbage, 'not a tarball\n'.repeat(100));
    assert.equal(await codeOf(prepareRelease({ tarball: garbage })), 'SWARM_ERR_ARCHIVE_CORRUPT');
  });

  it('a tarball that is missing, a directory or a FIFO is SWARM_ERR_USAGE_INVALID (never read)', async () => {
    const fifo = join(base, 'fifo.tgz');
    execFileSync('mkfifo', [fifo]);
    for (const tarball of [join(base, 'missing.tgz'), base, fifo]) {
      assert.equal(await codeOf(prepareRelease({ tarball })), 'SWARM_ERR_USAGE_INVALID', tarball);
    }
  });

  it('packs a tree into a temporary tarball that dispose removes', async () => {
    const release = await prepareRelease({ tree });
    assert.equal(release.name, 'web');
    assert.equal(
      release.sha256,
      createHash('sha256')
        .update(await readFile(release.file))
        .digest('hex'),
    );
    assert.equal(release.size, (await stat(release.file)).size);
    await release.dispose();
    await assert.rejects(access(release.file), { code: 'ENOENT' });
  });
});
