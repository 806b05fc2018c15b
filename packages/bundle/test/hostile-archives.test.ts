/**
 * Hostile archives, built byte by byte (test/helpers/raw-tar.ts) so they can hold what no
 * packer would write. Each test is named after what it guards against. For every refusal
 * the helper checks the error code, that nothing was written outside the destination (a
 * sentinel sibling directory stays empty and nothing else appears beside it), and that
 * no write happens once the promise has settled. Cases run four at a time (each has its own
 * directories); the gzip bombs run alone, since they assert on the process's memory.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { extractRelease, type ExtractLimits } from '../src/index.js';
import { gnuLong, manifestEntry, pax, tar, tgz, type RawEntry } from './helpers/raw-tar.js';

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

interface Expectation {
  code: string;
  /** Matched against details.reason (UNSAFE) or the message. */
  reason?: RegExp;
  limit?: keyof ExtractLimits;
  limits?: Partial<ExtractLimits>;
}

/** Extract `archive`, expect the refusal, and check nothing leaked or kept writing. */
async function expectRefused(archive: Buffer, expected: Expectation): Promise<{ error: any; setup: Setup }> {
  const s = await setup(archive);
  let error: any;
  await assert.rejects(extractRelease(s.tarball, s.dest, { limits: expected.limits ?? {} }), (err: any) => {
    error = err;
    return true;
  });
  assert.equal(error.code, expected.code, `${error.code}: ${error.message}`);
  if (expected.reason) {
    const text = expected.code === 'SWARM_ERR_ARCHIVE_UNSAFE' ? error.details.reason : error.message;
    assert.match(text, expected.reason);
  }
  if (expected.code === 'SWARM_ERR_ARCHIVE_UNSAFE') assert.equal(typeof error.details.entry, 'string');
  if (expected.limit) {
    assert.equal(error.details.limit, expected.limit);
    assert.equal(typeof error.details.value, 'number');
  }
  await assertContained(s);
  return { error, setup: s };
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
  await rm(s.dest, { recursive: true });
}

/** Regular files that would follow a hostile entry: none of them may be written. */
function trailingFiles(count = 200): RawEntry[] {
  return Array.from({ length: count }, (_, i) => ({ name: `after/f${i}.txt`, body: `file ${i}\n` }));
}

async function expectNothingAfter(s: Setup): Promise<void> {
  // Checked by expectRefused's listing too; here explicitly: refusal stops every later write.
  assert.ok(!(await listTree(s.dest)).some((p) => p.startsWith('after')));
}

describe('paths', { concurrency: 4 }, () => {
  test('absolute path is refused (would write anywhere on the host)', async () => {
    const s0 = join(base, 'abs-target');
    const { error } = await expectRefused(tgz([manifestEntry(), { name: `${s0}/pwned`, body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /absolute path/,
    });
    assert.equal(error.details.entry, `${s0}/pwned`);
    await assert.rejects(stat(s0), { code: 'ENOENT' });
  });

  test("'..' traversal is refused (would climb out of the release)", async () => {
    await expectRefused(tgz([manifestEntry(), { name: '../sentinel/pwned', body: 'x' }, ...trailingFiles()]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /'\.\.' segment/,
    });
  });

  test("'..' hidden in the middle of a path is refused even if it would stay inside", async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'a/../release.json', body: '{}' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /'\.\.' segment/,
    });
  });

  test("ustar prefix field smuggling '..' is refused", async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'pwned', prefix: '../sentinel', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /'\.\.' segment/,
    });
  });

  test('backslash path is refused (..\\..\\x on Windows, a confusing name on POSIX)', async () => {
    await expectRefused(tgz([manifestEntry(), { name: '..\\sentinel\\pwned', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /backslash/,
    });
  });

  test('drive-relative path is refused (C:x)', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'C:pwned', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /drive letter/,
    });
  });

  test("PAX header overriding the path to '../x' is refused", async () => {
    await expectRefused(
      tgz([manifestEntry(), pax({ path: '../sentinel/pwned' }), { name: 'innocent.txt', body: 'x' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /'\.\.' segment/,
      },
    );
  });

  test("GNU long-name (././@LongLink) overriding the path to '../x' is refused", async () => {
    await expectRefused(tgz([manifestEntry(), gnuLong('../sentinel/pwned'), { name: 'innocent.txt', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /'\.\.' segment/,
    });
  });

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

  test('duplicate entry is refused (a second write could replace a checked file)', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'a.txt', body: 'one' }, { name: 'a.txt', body: 'two' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /duplicate entry/,
    });
  });

  test('file then directory of the same name is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'a', body: 'x' }, { name: 'a/b', body: 'y' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /parent a is a file/,
    });
  });
});

describe('symlinks', { concurrency: 4 }, () => {
  test('symlink with an absolute target is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'etc', type: '2', linkname: '/etc' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /absolute symlink target/,
    });
  });

  test('symlink with a relative ../.. target that escapes is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'sub/up', type: '2', linkname: '../../sentinel' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /escapes the release/,
    });
  });

  test("symlink-then-write-through: 'a -> ..' then 'a/x' never writes outside", async () => {
    const { error } = await expectRefused(
      tgz([manifestEntry(), { name: 'a', type: '2', linkname: '..' }, { name: 'a/sentinel/pwned', body: 'x' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /escapes the release/,
      },
    );
    assert.equal(error.details.entry, 'a');
  });

  test("symlink-then-write-through: 'dir -> /tmp/…' then 'dir/file' never writes there", async () => {
    const s0 = join(base, 'link-target');
    await mkdir(s0);
    await expectRefused(
      tgz([manifestEntry(), { name: 'dir', type: '2', linkname: s0 }, { name: 'dir/pwned', body: 'x' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /absolute symlink target/,
      },
    );
    assert.deepEqual(await readdir(s0), []);
  });

  test('no entry is written below a symlink, even one that stays inside (a -> ., then a/x)', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'a', type: '2', linkname: '.' }, { name: 'a/x', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /parent a is a symlink/,
    });
  });

  test("symlink chain that only escapes when resolved ('s/t -> ../l/..' with 'l -> .') is refused", async () => {
    // Lexically s/../l/.. is the root; through the real symlink l it is the root's parent.
    await expectRefused(
      tgz([manifestEntry(), { name: 's/t', type: '2', linkname: '../l/..' }, { name: 'l', type: '2', linkname: '.' }]),
      { code: 'SWARM_ERR_ARCHIVE_UNSAFE', reason: /'\.\.' after a name/ },
    );
  });

  test('PAX linkpath override pointing a symlink outside is refused', async () => {
    await expectRefused(
      tgz([manifestEntry(), pax({ linkpath: '/etc' }), { name: 'innocent', type: '2', linkname: 'ok' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /absolute symlink target/,
      },
    );
  });

  test('GNU long-link (K) pointing a symlink outside is refused', async () => {
    await expectRefused(
      tgz([manifestEntry(), gnuLong('../../../etc', 'K'), { name: 'innocent', type: '2', linkname: 'ok' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /escapes the release/,
      },
    );
  });

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

describe('entry types', { concurrency: 4 }, () => {
  test('hard link to a file inside is refused (hard links are never extracted)', async () => {
    await expectRefused(
      tgz([manifestEntry(), { name: 'a.txt', body: 'a' }, { name: 'b.txt', type: '1', linkname: 'a.txt' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_UNSAFE',
        reason: /hard link/,
      },
    );
  });

  test('hard link to a file outside is refused (would alias /etc/shadow)', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'shadow', type: '1', linkname: '/etc/shadow' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /hard link/,
    });
  });

  test('character device is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'null', type: '3' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /device file/,
    });
  });

  test('block device is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'sda', type: '4' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /device file/,
    });
  });

  test('FIFO is refused', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'pipe', type: '6' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /FIFO/,
    });
  });

  test('unsupported entry types (GNU sparse, volume label) are refused, not skipped', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'sparse', type: 'S', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /unsupported entry type/,
    });
    await expectRefused(tgz([manifestEntry(), { name: 'label', type: 'V' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /unsupported entry type/,
    });
  });

  test('setuid, setgid and sticky bits are dropped', async () => {
    const s = await setup(
      tgz([
        manifestEntry(),
        { name: 'suid', body: '#!/bin/sh\n', mode: 0o4755 },
        { name: 'sgid', body: 'x', mode: 0o2755 },
        { name: 'tmp/', type: '5', mode: 0o1777 },
      ]),
    );
    await extractRelease(s.tarball, s.dest);
    assert.equal((await stat(join(s.dest, 'suid'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(s.dest, 'sgid'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(s.dest, 'tmp'))).mode & 0o7777, 0o755);
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
      ]),
    );
    await extractRelease(s.tarball, s.dest);
    const mode = async (p: string) => (await stat(join(s.dest, p))).mode & 0o7777;
    assert.equal(await mode('world-writable'), 0o644);
    assert.equal(await mode('read-only'), 0o644);
    assert.equal(await mode('private'), 0o600);
    assert.equal(await mode('dir'), 0o755);
    assert.equal(await mode('locked'), 0o755);
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

describe('limits', { concurrency: 4 }, () => {
  test('entry count cap', async () => {
    const entries = [manifestEntry(), ...Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' }))];
    await expectRefused(tgz(entries), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxEntries',
      limits: { maxEntries: 10 },
    });
  });

  test('total size cap, checked on declared sizes before writing', async () => {
    const entries = [
      manifestEntry(),
      ...Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, body: Buffer.alloc(4096, 1) })),
    ];
    const { error } = await expectRefused(tgz(entries), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxTotalBytes',
      limits: { maxTotalBytes: 10_000 },
    });
    assert.ok(error.details.value > 10_000);
  });

  test('single entry size cap', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'big', body: Buffer.alloc(5000) }]), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxEntryBytes',
      limits: { maxEntryBytes: 4096 },
    });
  });

  test('path depth cap', async () => {
    const deep = Array.from({ length: 10 }, (_, i) => `d${i}`).join('/');
    await expectRefused(tgz([manifestEntry(), { name: `${deep}/f`, body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxDepth',
      limits: { maxDepth: 8 },
    });
  });

  test('long path cap (via a PAX path, past the ustar fields)', async () => {
    await expectRefused(tgz([manifestEntry(), pax({ path: `${'x'.repeat(300)}/f` }), { name: 'short', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxPathBytes',
      limits: { maxPathBytes: 255 },
    });
  });

  test('long symlink target cap', async () => {
    await expectRefused(
      tgz([manifestEntry(), pax({ linkpath: 'y'.repeat(300) }), { name: 'l', type: '2', linkname: 'ok' }]),
      {
        code: 'SWARM_ERR_ARCHIVE_LIMIT',
        limit: 'maxPathBytes',
        limits: { maxPathBytes: 255 },
      },
    );
  });

  test('a header that lies about a huge size is refused before any byte is inflated for it', async () => {
    // Declares 1 TiB; the limit check happens on the header, not on the (absent) data.
    await expectRefused(tgz([manifestEntry(), { name: 'huge', size: 2 ** 40, body: '' }], { eof: false }), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxEntryBytes',
    });
  });

  test('a flood of PAX metadata is stopped by the inflated-bytes cap', async () => {
    const flood = Array.from({ length: 100 }, () => pax({ comment: 'z'.repeat(60_000) }));
    await expectRefused(tgz([manifestEntry(), ...flood, { name: 'x', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxTotalBytes',
      limits: { maxTotalBytes: 1024 * 1024, maxEntries: 10 },
    });
  });

  test('an oversized PAX record is refused', async () => {
    await expectRefused(tgz([manifestEntry(), pax({ comment: 'z'.repeat(100_000) }), { name: 'x', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_UNSAFE',
      reason: /ExtendedHeader header larger than/,
    });
  });
});

describe('gzip bombs', () => {
  /**
   * 1 GiB of zeros as 64 concatenated gzip members of 16 MiB each (gunzip reads members
   * back to back, so this is one 1 GiB stream), ~1 MB on disk. The last member is cut
   * short: had the extractor inflated the whole bomb it would report a broken gzip
   * stream; reporting its own reason proves it stopped early, without timing anything.
   */
  function zeroBomb(prefix: Buffer): Buffer {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const parts = [gzipSync(prefix), ...Array.from({ length: 63 }, () => member)];
    return Buffer.concat([...parts, member.subarray(0, member.length - 8)]);
  }

  test('1 GiB of zeros after the end marker is stopped early with default limits, memory stays flat', async () => {
    const rssBefore = process.memoryUsage().rss;
    await expectRefused(zeroBomb(tar([manifestEntry()], { eof: false })), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /follow the end-of-archive marker/,
    });
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'RSS grew by more than 200 MB');
  });

  test('1 GiB entry of zeros is refused at its header by the total size cap', async () => {
    const head = tar([manifestEntry(), { name: 'zeros', size: 2 ** 30, body: '' }], { eof: false });
    await expectRefused(zeroBomb(head.subarray(0, head.length)), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxTotalBytes',
      limits: { maxTotalBytes: 64 * 1024 * 1024 },
    });
  });
});

describe('corrupt archives', { concurrency: 4 }, () => {
  test('truncated gzip is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    const whole = tgz([manifestEntry(), ...trailingFiles(50)]);
    await expectRefused(whole.subarray(0, Math.floor(whole.length / 2)), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /gzip/,
    });
  });

  test('tar truncated inside a valid gzip (no end marker) is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    const raw = tar([manifestEntry(), { name: 'big', body: Buffer.alloc(10_000, 7) }], { eof: false });
    await expectRefused(gzipSync(raw.subarray(0, 2048)), { code: 'SWARM_ERR_ARCHIVE_CORRUPT' });
    await expectRefused(gzipSync(raw), { code: 'SWARM_ERR_ARCHIVE_CORRUPT', reason: /end-of-archive marker/ });
  });

  test('not gzip at all (a plain tar, random bytes, an empty file) is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    await expectRefused(tar([manifestEntry()]), { code: 'SWARM_ERR_ARCHIVE_CORRUPT' });
    await expectRefused(Buffer.from('this is not an archive at all, just some text'.repeat(40)), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    });
    await expectRefused(Buffer.alloc(0), { code: 'SWARM_ERR_ARCHIVE_CORRUPT' });
  });

  test('a gzip inside the gzip is refused, not inflated past the byte counting', async () => {
    await expectRefused(gzipSync(tgz([manifestEntry()])), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /compressed twice/,
    });
  });

  test('a bad header checksum is SWARM_ERR_ARCHIVE_CORRUPT, not skipped', async () => {
    await expectRefused(tgz([manifestEntry(), { name: 'a', body: 'x', badChecksum: true }]), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /checksum/,
    });
  });

  // node-tar 7.5 reads a size field it cannot use as "no size" and extracts the entry as an
  // empty file, where GNU tar refuses the archive: a disagreement on where an entry ends.
  test('a negative base-256 size field (-1) is SWARM_ERR_ARCHIVE_CORRUPT, not an empty file', async () => {
    // The files after it are never written (expectRefused lists what dest holds).
    await expectRefused(
      tgz([manifestEntry(), { name: 'neg', sizeField: Buffer.alloc(12, 0xff) }, ...trailingFiles(50)]),
      { code: 'SWARM_ERR_ARCHIVE_CORRUPT', reason: /"neg" has a negative or unreadable size field/ },
    );
  });

  test('a negative size on a symlink or an octal size that is no number is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    const minusTwo = Buffer.alloc(12, 0xff);
    minusTwo[11] = 0xfe;
    await expectRefused(
      tgz([manifestEntry(), { name: 'l', type: '2', linkname: 'release.json', sizeField: minusTwo }]),
      { code: 'SWARM_ERR_ARCHIVE_CORRUPT', reason: /"l" has a negative or unreadable size field/ },
    );
    await expectRefused(tgz([manifestEntry(), { name: 'nan', sizeField: Buffer.from('zzzzzzzzzzz\0') }]), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /"nan" has a negative or unreadable size field/,
    });
    await expectRefused(tgz([manifestEntry(), { name: 'minus', sizeField: Buffer.from('-0000000001\0') }]), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /"minus" has a negative or unreadable size field/,
    });
  });

  test('a PAX size that is not a whole number of bytes is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    await expectRefused(tgz([manifestEntry(), pax({ size: '1.5' }), { name: 'half', body: 'ab' }]), {
      code: 'SWARM_ERR_ARCHIVE_CORRUPT',
      reason: /"half" declares a size of 1\.5/,
    });
  });

  test('a PAX size past 2^53 is refused: a file by the size cap, a symlink as corrupt', async () => {
    await expectRefused(tgz([manifestEntry(), pax({ size: '99999999999999999999' }), { name: 'f', body: 'x' }]), {
      code: 'SWARM_ERR_ARCHIVE_LIMIT',
      limit: 'maxEntryBytes',
    });
    await expectRefused(
      tgz([manifestEntry(), pax({ size: '99999999999999999999' }), { name: 'l', type: '2', linkname: 'x' }]),
      { code: 'SWARM_ERR_ARCHIVE_CORRUPT', reason: /"l" declares a size of 100000000000000000000 bytes/ },
    );
  });

  test('a positive base-256 size field is read, not refused (valid, if unusual, encoding)', async () => {
    // The control for the cases above: base-256 itself is fine, only unusable values are not.
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

  test('gzipped garbage that is not tar is SWARM_ERR_ARCHIVE_CORRUPT', async () => {
    await expectRefused(gzipSync(Buffer.alloc(4096, 'A')), { code: 'SWARM_ERR_ARCHIVE_CORRUPT' });
  });
});

describe('release.json', { concurrency: 4 }, () => {
  test('release.json missing is SWARM_ERR_RELEASE_MANIFEST_MISSING', async () => {
    await expectRefused(tgz([{ name: 'server.js', body: 'x' }]), { code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING' });
  });

  test('release.json only in a subdirectory does not count', async () => {
    await expectRefused(tgz([{ name: 'app/release.json', body: '{}' }]), {
      code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING',
    });
  });

  test('release.json being a symlink is refused (even to a valid manifest inside)', async () => {
    await expectRefused(
      tgz([
        { name: 'real.json', body: JSON.stringify({ name: 'a', version: '1', start: ['x'] }) },
        { name: 'release.json', type: '2', linkname: 'real.json' },
      ]),
      { code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID', reason: /found a symlink/ },
    );
  });

  test('release.json being a directory is refused', async () => {
    await expectRefused(tgz([{ name: 'release.json/', type: '5' }]), {
      code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
      reason: /found a directory/,
    });
  });

  test('an invalid release.json lists its problems', async () => {
    const { error } = await expectRefused(tgz([manifestEntry({ name: 'a/b' })]), {
      code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    });
    assert.equal(error.details.problems.length, 3);
  });
});

describe('settling', () => {
  test('a refusal stops every later write (entries after the hostile one never appear)', async () => {
    const { setup: s } = await expectRefused(
      tgz([
        manifestEntry(),
        ...trailingFiles(300).slice(0, 100),
        { name: '/abs', body: 'x' },
        ...trailingFiles(300).slice(100),
      ]),
      { code: 'SWARM_ERR_ARCHIVE_UNSAFE' },
    );
    void s;
    const s2 = await setup(tgz([manifestEntry(), { name: 'dev', type: '3' }, ...trailingFiles(500)]));
    await assert.rejects(extractRelease(s2.tarball, s2.dest), { code: 'SWARM_ERR_ARCHIVE_UNSAFE' });
    await expectNothingAfter(s2);
    await assertContained(s2);
  });
});
