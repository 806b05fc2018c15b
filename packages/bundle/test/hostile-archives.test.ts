/**
 * Hostile archives, built byte by byte (test/helpers/raw-tar.ts) so they can hold what no
 * packer would write. The refusals are the table of test/helpers/hostile-archives.ts (which
 * inspect-release.test.ts runs too); each is named after what it guards against. For every
 * refusal the helper checks the error code, that nothing was written outside the destination
 * (a sentinel sibling directory stays empty and nothing else appears beside it), and that no
 * write happens once the promise has settled. Cases run four at a time (each has its own
 * directories); the gzip bombs run alone, since they assert on the process's memory.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { extractRelease } from '../src/index.js';
import {
  HOSTILE_ARCHIVES,
  assertRefusal,
  trailingFiles,
  type HostileArchive,
  type HostileGroup,
} from './helpers/hostile-archives.js';
import { manifestEntry, pax, tgz } from './helpers/raw-tar.js';

let base: string;
let counter = 0;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'swarm-hostile-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

interface Setup {
  root: string;
  dest: string;
  sentinel: string;
  tarball: string;
}

/** A fresh `root/` holding `release.tgz`, an empty `sentinel/`, and room for `dest/`. */
async function setup(archive: Buffer): Promise<Setup> {
  const root = join(base, `case-${++counter}`);
  const sentinel = join(root, 'sentinel');
  await mkdir(sentinel, { recursive: true });
  const tarball = join(root, 'release.tgz');
  await writeFile(tarball, archive);
  return { root, dest: join(root, 'dest'), sentinel, tarball };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      out.push(path);
      if ((await lstat(join(d, name))).isDirectory()) await walk(join(d, name), path);
    }
  };
  await walk(dir, '');
  return out;
}

/** Extract the row's archive, expect its refusal, and check nothing leaked or kept writing. */
async function expectRefused(row: HostileArchive): Promise<Setup> {
  const s = await setup(await row.build(base));
  let error: any;
  await assert.rejects(extractRelease(s.tarball, s.dest, { limits: row.limits ?? {} }), (err: any) => {
    error = err;
    return true;
  });
  await assertRefusal(error, row, base);
  await assertContained(s);
  return s;
}

/** Nothing outside dest, and dest does not change after the promise settled. */
async function assertContained(s: Setup): Promise<void> {
  assert.deepEqual(await readdir(s.sentinel), [], 'something was written into the sentinel directory');
  const beside = (await readdir(s.root)).filter((n) => n !== 'dest').sort();
  assert.deepEqual(beside, ['release.tgz', 'sentinel'], 'something was written beside dest');
  const settled = await listTree(s.dest);
  // A writer still running would keep adding entries: give it a moment to show itself.
  await sleep(50);
  assert.deepEqual(await listTree(s.dest), settled, 'writes continued after the promise settled');
  await rm(s.dest, { recursive: true, force: true });
}

async function expectNothingAfter(s: Setup): Promise<void> {
  // Checked by expectRefused's listing too; here explicitly: refusal stops every later write.
  assert.ok(!(await listTree(s.dest)).some((p) => p.startsWith('after')));
}

/** One test per row of the table in `group`. */
function refusals(group: HostileGroup): void {
  for (const row of HOSTILE_ARCHIVES.filter((r) => r.group === group)) {
    test(row.name, async () => {
      const rssBefore = process.memoryUsage().rss;
      await expectRefused(row);
      if (row.bomb) {
        assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'RSS grew by more than 200 MB');
      }
    });
  }
}

test('every group of the hostile table is run here', () => {
  const groups = new Set(HOSTILE_ARCHIVES.map((r) => r.group));
  assert.deepEqual([...groups].sort(), [...RUN_GROUPS].sort());
});

const RUN_GROUPS: HostileGroup[] = [];
function group(name: HostileGroup, options: { concurrency: number }, more: () => void = () => undefined): void {
  RUN_GROUPS.push(name);
  describe(name, options, () => {
    refusals(name);
    more();
  });
}

group('paths', { concurrency: 4 }, () => {
  test('global PAX header cannot redirect later entries (its path is ignored, sanely)', async () => {
    const s = await setup(
      tgz([
        pax({ path: '../sentinel/pwned', comment: 'git archive writes one of these' }, true),
        manifestEntry(),
        { name: 'a.txt', body: 'a' },
      ]),
    );
    const result = await extractRelease(s.tarball, s.dest);
    assert.equal(result.entries, 2);
    assert.deepEqual(await listTree(s.dest), ['a.txt', 'release.json']);
    await assertContained(s);
  });
});

group('symlinks', { concurrency: 4 }, () => {
  test('symlinks that stay inside are extracted as symlinks', async () => {
    const s = await setup(
      tgz([
        manifestEntry(),
        { name: 'lib/', type: '5', mode: 0o755 },
        { name: 'lib/a.js', body: 'a' },
        { name: 'current', type: '2', linkname: 'lib/a.js' },
        { name: 'lib/up', type: '2', linkname: '../release.json' },
        { name: 'self', type: '2', linkname: '.' },
      ]),
    );
    await extractRelease(s.tarball, s.dest);
    assert.equal(await readlink(join(s.dest, 'current')), 'lib/a.js');
    assert.equal(await readlink(join(s.dest, 'lib/up')), '../release.json');
    assert.equal(await readlink(join(s.dest, 'self')), '.');
    await assertContained(s);
  });
});

group('entry types', { concurrency: 4 }, () => {
  test('the sticky bit is dropped (normalised, not refused: it grants nothing)', async () => {
    const s = await setup(
      tgz([
        manifestEntry(),
        { name: 'sticky-file', body: 'x', mode: 0o1755 },
        { name: 'tmp/', type: '5', mode: 0o1777 },
      ]),
    );
    await extractRelease(s.tarball, s.dest);
    assert.equal((await stat(join(s.dest, 'sticky-file'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(s.dest, 'tmp'))).mode & 0o7777, 0o755);
    await assertContained(s);
  });

  test('a set-id refusal writes nothing after the entry (the files that follow never appear)', async () => {
    const s = await setup(tgz([manifestEntry(), { name: 'suid', body: 'x', mode: 0o4755 }, ...trailingFiles(100)]));
    await assert.rejects(extractRelease(s.tarball, s.dest), { code: 'SWARM_ERR_ARCHIVE_UNSAFE' });
    await expectNothingAfter(s);
    assert.ok(!(await listTree(s.dest)).includes('suid'), 'the setuid file was written');
    await assertContained(s);
  });

  test('group and other write bits are dropped; the owner keeps read/write', async () => {
    const s = await setup(
      tgz([
        manifestEntry(),
        { name: 'world-writable', body: 'x', mode: 0o666 },
        { name: 'read-only', body: 'x', mode: 0o444 },
        { name: 'private', body: 'x', mode: 0o600 },
        { name: 'dir/', type: '5', mode: 0o777 },
        { name: 'locked/', type: '5', mode: 0o555 },
        { name: 'locked/inside', body: 'x' },
        { name: 'implied/inside', body: 'x' },
      ]),
    );
    await extractRelease(s.tarball, s.dest);
    const mode = async (p: string) => (await stat(join(s.dest, p))).mode & 0o7777;
    assert.equal(await mode('world-writable'), 0o644);
    assert.equal(await mode('read-only'), 0o644);
    assert.equal(await mode('private'), 0o600);
    assert.equal(await mode('dir'), 0o755);
    assert.equal(await mode('locked'), 0o755);
    // A parent no entry names is made like a directory entry without a mode.
    assert.equal(await mode('implied'), 0o755);
    await assertContained(s);
  });

  test('uid/gid from the archive are ignored: files belong to the extracting user', async () => {
    const s = await setup(
      tgz([manifestEntry(), { name: 'owned', body: 'x', uid: 4242, gid: 4343, uname: 'evil', gname: 'evil' }]),
    );
    await extractRelease(s.tarball, s.dest);
    const st = await stat(join(s.dest, 'owned'));
    assert.equal(st.uid, process.getuid!());
    assert.equal(st.gid, process.getgid!());
    await assertContained(s);
  });
});

group('limits', { concurrency: 4 });

// One at a time: they assert on the process's memory.
group('gzip bombs', { concurrency: 1 }, () => {
  test('below the floor the ratio is not checked: 48 MiB of zeros (~1000:1) extracts', async () => {
    const manifest = manifestEntry();
    const s = await setup(tgz([manifest, { name: 'zeros', body: Buffer.alloc(48 * 1024 * 1024) }]));
    const result = await extractRelease(s.tarball, s.dest);
    assert.equal(result.bytes, 48 * 1024 * 1024 + Buffer.byteLength(manifest.body!));
    await assertContained(s);
  });

  test('a raised ratio lets a genuinely compressible release through (80 MiB of zeros, ratio 5000)', async () => {
    const s = await setup(tgz([manifestEntry(), { name: 'zeros', body: Buffer.alloc(80 * 1024 * 1024) }]));
    await assert.rejects(extractRelease(s.tarball, join(s.root, 'refused')), {
      code: 'SWARM_ERR_ARCHIVE_INFLATION_RATIO',
    });
    await rm(join(s.root, 'refused'), { recursive: true, force: true });
    const result = await extractRelease(s.tarball, s.dest, { limits: { maxInflationRatio: 5000 } });
    assert.equal((await stat(join(s.dest, 'zeros'))).size, 80 * 1024 * 1024);
    assert.equal(result.manifest.name, 'app');
    await assertContained(s);
  });

  test('invalid inflation settings are a configuration error, before anything is read', async () => {
    const s = await setup(tgz([manifestEntry()]));
    for (const limits of [{ maxInflationRatio: 0 }, { inflationFloorBytes: -1 }, { maxInflationRatio: 1.5 }]) {
      await assert.rejects(extractRelease(s.tarball, s.dest, { limits }), (err: any) => {
        assert.equal(err.code, 'SWARM_ERR_CONFIG_INVALID');
        assert.match(err.details.problems[0], new RegExp(`^${Object.keys(limits)[0]}: must be a positive integer`));
        return true;
      });
    }
    await assert.rejects(stat(s.dest), { code: 'ENOENT' });
  });
});

group('corrupt archives', { concurrency: 4 }, () => {
  test('a positive base-256 size field is read, not refused (valid, if unusual, encoding)', async () => {
    // The control for the negative size rows: base-256 itself is fine, only unusable values are not.
    const s = await setup(
      tgz([
        manifestEntry(),
        { name: 'b256', body: 'abc', sizeField: Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]) },
      ]),
    );
    const result = await extractRelease(s.tarball, s.dest);
    assert.equal(result.manifest.name, 'app');
    assert.equal(await readFile(join(s.dest, 'b256'), 'utf8'), 'abc');
  });
});

group('release.json', { concurrency: 4 });

describe('settling', () => {
  test('a refusal stops every later write (entries after the hostile one never appear)', async () => {
    const s1 = await setup(
      tgz([
        manifestEntry(),
        ...trailingFiles(300).slice(0, 100),
        { name: '/abs', body: 'x' },
        ...trailingFiles(300).slice(100),
      ]),
    );
    await assert.rejects(extractRelease(s1.tarball, s1.dest), { code: 'SWARM_ERR_ARCHIVE_UNSAFE' });
    await assertContained(s1);
    const s2 = await setup(tgz([manifestEntry(), { name: 'dev', type: '3' }, ...trailingFiles(500)]));
    await assert.rejects(extractRelease(s2.tarball, s2.dest), { code: 'SWARM_ERR_ARCHIVE_UNSAFE' });
    await expectNothingAfter(s2);
    await assertContained(s2);
  });
});
