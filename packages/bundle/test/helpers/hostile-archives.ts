/**
 * The hostile archives every reader of a release must refuse, as one table: extraction
 * (hostile-archives.test.ts) and inspection (inspect-release.test.ts) both run every row, so
 * the two can never drift apart. Each row is named after what it guards against and built
 * byte by byte (raw-tar.ts), so it can hold what no packer would write.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ExtractLimits } from '../../src/index.js';
import { gnuLong, manifestEntry, pax, tar, tgz, type RawEntry } from './raw-tar.js';

export type HostileGroup =
  'paths' | 'symlinks' | 'entry types' | 'limits' | 'gzip bombs' | 'corrupt archives' | 'release.json';

export interface HostileArchive {
  group: HostileGroup;
  /** What it guards against; the test's name. */
  name: string;
  /** The archive's bytes. `base` is the test file's scratch directory (for targets outside the release). */
  build(base: string): Buffer | Promise<Buffer>;
  /** The expected SWARM_ERR_* code. */
  code: string;
  /** Matched against details.reason (SWARM_ERR_ARCHIVE_UNSAFE) or the message. */
  reason?: RegExp;
  /** For SWARM_ERR_ARCHIVE_LIMIT: the limit named in details.limit. */
  limit?: keyof ExtractLimits;
  /** Limits to read the archive under (defaults otherwise). */
  limits?: Partial<ExtractLimits>;
  /** Further checks of the error and of what is outside the release. */
  check?(error: any, base: string): void | Promise<void>;
  /** A bomb: memory must stay flat while it is read (run one at a time). */
  bomb?: boolean;
}

/** Regular files that would follow a hostile entry: none of them may be written. */
export function trailingFiles(count = 200): RawEntry[] {
  return Array.from({ length: count }, (_, i) => ({ name: `after/f${i}.txt`, body: `file ${i}\n` }));
}

/**
 * 1 GiB of zeros as 64 concatenated gzip members of 16 MiB each (gunzip reads members back to
 * back, so this is one 1 GiB stream), ~1 MB on disk. The last member is cut short: had the
 * reader inflated the whole bomb it would report a broken gzip stream; reporting its own
 * reason proves it stopped early, without timing anything.
 */
function zeroBomb(prefix: Buffer): Buffer {
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  const parts = [gzipSync(prefix), ...Array.from({ length: 63 }, () => member)];
  return Buffer.concat([...parts, member.subarray(0, member.length - 8)]);
}

/** The bytes one inflater chunk adds at most (safe-unpack.ts reads and inflates 256 KiB at a time). */
export const INFLATE_CHUNK_BYTES = 256 * 1024;

/**
 * A refusal by the inflation ratio came at the first inflater chunk past `floor`: the bytes it
 * reports, not a time, show the bomb was stopped early (~1 MB of the 1 GiB read).
 */
function assertStoppedAt(error: any, floor: number, ratio: number): void {
  const { inflatedBytes, compressedBytes, maxInflationRatio, inflationFloorBytes, limit } = error.details;
  assert.equal(limit, 'maxInflationRatio');
  assert.equal(maxInflationRatio, ratio);
  assert.equal(inflationFloorBytes, floor);
  assert.ok(inflatedBytes > floor && inflatedBytes <= floor + INFLATE_CHUNK_BYTES, `inflatedBytes ${inflatedBytes}`);
  assert.ok(compressedBytes > 0 && inflatedBytes > ratio * compressedBytes, `compressedBytes ${compressedBytes}`);
}

const minusTwo = (): Buffer => {
  const field = Buffer.alloc(12, 0xff);
  field[11] = 0xfe;
  return field;
};

const deep = Array.from({ length: 10 }, (_, i) => `d${i}`).join('/');

export const HOSTILE_ARCHIVES: readonly HostileArchive[] = [
  // --- paths ---------------------------------------------------------------------------
  {
    group: 'paths',
    name: 'absolute path is refused (would write anywhere on the host)',
    build: (base) => tgz([manifestEntry(), { name: `${join(base, 'abs-target')}/pwned`, body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /absolute path/,
    async check(error, base) {
      assert.equal(error.details.entry, `${join(base, 'abs-target')}/pwned`);
      await assert.rejects(stat(join(base, 'abs-target')), { code: 'ENOENT' });
    },
  },
  {
    group: 'paths',
    name: "'..' traversal is refused (would climb out of the release)",
    build: () => tgz([manifestEntry(), { name: '../sentinel/pwned', body: 'x' }, ...trailingFiles()]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' segment/,
  },
  {
    group: 'paths',
    name: "'..' hidden in the middle of a path is refused even if it would stay inside",
    build: () => tgz([manifestEntry(), { name: 'a/../release.json', body: '{}' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' segment/,
  },
  {
    group: 'paths',
    name: "ustar prefix field smuggling '..' is refused",
    build: () => tgz([manifestEntry(), { name: 'pwned', prefix: '../sentinel', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' segment/,
  },
  {
    group: 'paths',
    name: 'backslash path is refused (..\\..\\x on Windows, a confusing name on POSIX)',
    build: () => tgz([manifestEntry(), { name: '..\\sentinel\\pwned', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /backslash/,
  },
  {
    group: 'paths',
    name: 'drive-relative path is refused (C:x)',
    build: () => tgz([manifestEntry(), { name: 'C:pwned', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /drive letter/,
  },
  {
    group: 'paths',
    name: "PAX header overriding the path to '../x' is refused",
    build: () => tgz([manifestEntry(), pax({ path: '../sentinel/pwned' }), { name: 'innocent.txt', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' segment/,
  },
  {
    group: 'paths',
    name: 'a file name over 255 bytes (NAME_MAX) is refused, not left to fail the write on every host',
    build: () => tgz([manifestEntry(), pax({ path: `dir/${'n'.repeat(256)}` }), { name: 'innocent.txt', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /255 bytes/,
  },
  {
    group: 'paths',
    name: "GNU long-name (././@LongLink) overriding the path to '../x' is refused",
    build: () => tgz([manifestEntry(), gnuLong('../sentinel/pwned'), { name: 'innocent.txt', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' segment/,
  },
  {
    group: 'paths',
    name: 'duplicate entry is refused (a second write could replace a checked file)',
    build: () => tgz([manifestEntry(), { name: 'a.txt', body: 'one' }, { name: 'a.txt', body: 'two' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /duplicate entry/,
  },
  {
    group: 'paths',
    name: 'file then directory of the same name is refused',
    build: () => tgz([manifestEntry(), { name: 'a', body: 'x' }, { name: 'a/b', body: 'y' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /parent a is a file/,
  },

  // --- symlinks ------------------------------------------------------------------------
  {
    group: 'symlinks',
    name: 'symlink with an absolute target is refused',
    build: () => tgz([manifestEntry(), { name: 'etc', type: '2', linkname: '/etc' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /absolute symlink target/,
  },
  {
    group: 'symlinks',
    name: 'symlink with a relative ../.. target that escapes is refused',
    build: () => tgz([manifestEntry(), { name: 'sub/up', type: '2', linkname: '../../sentinel' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /escapes the release/,
  },
  {
    group: 'symlinks',
    name: "symlink-then-write-through: 'a -> ..' then 'a/x' never writes outside",
    build: () =>
      tgz([manifestEntry(), { name: 'a', type: '2', linkname: '..' }, { name: 'a/sentinel/pwned', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /escapes the release/,
    check: (error) => assert.equal(error.details.entry, 'a'),
  },
  {
    group: 'symlinks',
    name: "symlink-then-write-through: 'dir -> /tmp/…' then 'dir/file' never writes there",
    async build(base) {
      // The target exists, as it would on a real host.
      await mkdir(join(base, 'link-target'), { recursive: true });
      return tgz([
        manifestEntry(),
        { name: 'dir', type: '2', linkname: join(base, 'link-target') },
        { name: 'dir/pwned', body: 'x' },
      ]);
    },
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /absolute symlink target/,
    check: async (_error, base) => assert.deepEqual(await readdir(join(base, 'link-target')), []),
  },
  {
    group: 'symlinks',
    name: 'symlink poisoning: a directory, a symlink of the same name, a file through it (GHSA-r628-mhmh-qjhw)',
    build: () =>
      tgz([
        manifestEntry(),
        { name: 'a/', type: '5' },
        { name: 'a', type: '2', linkname: '.' },
        { name: 'a/pwned', body: 'x' },
      ]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /duplicate entry \(a directory, then a symlink\)/,
  },
  {
    group: 'symlinks',
    name: 'no entry is written below a symlink, even one that stays inside (a -> ., then a/x)',
    build: () => tgz([manifestEntry(), { name: 'a', type: '2', linkname: '.' }, { name: 'a/x', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /parent a is a symlink/,
  },
  {
    group: 'symlinks',
    name: "symlink chain that only escapes when resolved ('s/t -> ../l/..' with 'l -> .') is refused",
    // Lexically s/../l/.. is the root; through the real symlink l it is the root's parent.
    build: () =>
      tgz([manifestEntry(), { name: 's/t', type: '2', linkname: '../l/..' }, { name: 'l', type: '2', linkname: '.' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /'\.\.' after a name/,
  },
  {
    group: 'symlinks',
    name: 'PAX linkpath override pointing a symlink outside is refused',
    build: () => tgz([manifestEntry(), pax({ linkpath: '/etc' }), { name: 'innocent', type: '2', linkname: 'ok' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /absolute symlink target/,
  },
  {
    group: 'symlinks',
    name: 'GNU long-link (K) pointing a symlink outside is refused',
    build: () => tgz([manifestEntry(), gnuLong('../../../etc', 'K'), { name: 'innocent', type: '2', linkname: 'ok' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /escapes the release/,
  },
  {
    group: 'symlinks',
    name: 'unicode collision ß / ss of a symlink and a directory (GHSA-r6q2-hw4h-h46w)',
    build: () =>
      tgz([
        manifestEntry(),
        { name: 'sub/', type: '5' },
        { name: 'ß', type: '2', linkname: 'sub' },
        { name: 'ss/x', body: 'x' },
      ]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /collides with a symlink on a case-insensitive file system/,
  },
  {
    group: 'symlinks',
    name: 'unicode NFC / NFD collision of a symlink and a directory (GHSA-qq89-hq3f-393p)',
    build: () =>
      tgz([
        manifestEntry(),
        { name: 'sub/', type: '5' },
        { name: '\u00e9', type: '2', linkname: 'sub' },
        { name: 'e\u0301/x', body: 'x' },
      ]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /collides with a symlink on a case-insensitive file system/,
  },
  {
    group: 'symlinks',
    name: 'case collision of a symlink and a directory (case-insensitive file systems)',
    build: () =>
      tgz([
        manifestEntry(),
        { name: 'sub/', type: '5' },
        { name: 'Lib', type: '2', linkname: 'sub' },
        { name: 'lib/x', body: 'x' },
      ]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /collides with a symlink on a case-insensitive file system/,
  },

  // --- entry types ---------------------------------------------------------------------
  {
    group: 'entry types',
    name: 'hard link to a file inside is refused (hard links are never extracted)',
    build: () => tgz([manifestEntry(), { name: 'a.txt', body: 'a' }, { name: 'b.txt', type: '1', linkname: 'a.txt' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /hard link/,
  },
  {
    group: 'entry types',
    name: 'hard link to a file outside is refused (would alias /etc/shadow)',
    build: () => tgz([manifestEntry(), { name: 'shadow', type: '1', linkname: '/etc/shadow' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /hard link/,
  },
  {
    group: 'entry types',
    name: 'character device is refused',
    build: () => tgz([manifestEntry(), { name: 'null', type: '3' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /device file/,
  },
  {
    group: 'entry types',
    name: 'block device is refused',
    build: () => tgz([manifestEntry(), { name: 'sda', type: '4' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /device file/,
  },
  {
    group: 'entry types',
    name: 'FIFO is refused',
    build: () => tgz([manifestEntry(), { name: 'pipe', type: '6' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /FIFO/,
  },
  {
    group: 'entry types',
    name: 'GNU sparse entry is refused, not skipped (an unsupported type)',
    build: () => tgz([manifestEntry(), { name: 'sparse', type: 'S', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /unsupported entry type/,
  },
  {
    group: 'entry types',
    name: 'volume label is refused, not skipped (an unsupported type)',
    build: () => tgz([manifestEntry(), { name: 'label', type: 'V' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /unsupported entry type/,
  },

  {
    group: 'entry types',
    name: 'a setuid file is refused, not installed with the bit dropped (wiki/reference/guarantees.md#hostile-archives-are-refused)',
    build: () => tgz([manifestEntry(), { name: 'bin/su', body: '#!/bin/sh\n', mode: 0o4755 }, ...trailingFiles()]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /^setuid bit set \(mode 4755\)$/,
    check: (error) => assert.equal(error.details.entry, 'bin/su'),
  },
  {
    group: 'entry types',
    name: 'a setgid file is refused',
    build: () => tgz([manifestEntry(), { name: 'sgid', body: 'x', mode: 0o2711 }, ...trailingFiles()]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /^setgid bit set \(mode 2711\)$/,
    check: (error) => assert.equal(error.details.entry, 'sgid'),
  },
  {
    group: 'entry types',
    name: 'a setgid directory is refused (what it creates would inherit its group)',
    build: () => tgz([manifestEntry(), { name: 'shared/', type: '5', mode: 0o2775 }, { name: 'shared/f', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /^setgid bit set \(mode 2775\)$/,
    check: (error) => assert.equal(error.details.entry, 'shared/'),
  },
  {
    group: 'entry types',
    name: 'a file with both setuid and setgid, not owner-executable, is refused',
    build: () => tgz([manifestEntry(), { name: 'both', body: 'x', mode: 0o6644 }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /^setuid and setgid bits set \(mode 6644\)$/,
  },
  {
    group: 'entry types',
    name: 'a setgid bit on the release root (./) is refused too',
    build: () => tgz([{ name: './', type: '5', mode: 0o2755 }, manifestEntry()]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /^setgid bit set/,
    check: (error) => assert.equal(error.details.entry, './'),
  },

  // --- limits --------------------------------------------------------------------------
  {
    group: 'limits',
    name: 'entry count cap',
    build: () => tgz([manifestEntry(), ...Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' }))]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxEntries',
    limits: { maxEntries: 10 },
  },
  {
    group: 'limits',
    name: 'total size cap, checked on declared sizes before writing',
    build: () =>
      tgz([manifestEntry(), ...Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, body: Buffer.alloc(4096, 1) }))]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxTotalBytes',
    limits: { maxTotalBytes: 10_000 },
    check: (error) => assert.ok(error.details.value > 10_000),
  },
  {
    group: 'limits',
    name: 'single entry size cap',
    build: () => tgz([manifestEntry(), { name: 'big', body: Buffer.alloc(5000) }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxEntryBytes',
    limits: { maxEntryBytes: 4096 },
  },
  {
    group: 'limits',
    name: 'path depth cap',
    build: () => tgz([manifestEntry(), { name: `${deep}/f`, body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxDepth',
    limits: { maxDepth: 8 },
  },
  {
    group: 'limits',
    name: 'long path cap (via a PAX path, past the ustar fields)',
    build: () =>
      tgz([manifestEntry(), pax({ path: `${'x'.repeat(150)}/${'y'.repeat(150)}/f` }), { name: 'short', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxPathBytes',
    limits: { maxPathBytes: 255 },
  },
  {
    group: 'limits',
    name: 'long symlink target cap',
    build: () => tgz([manifestEntry(), pax({ linkpath: 'y'.repeat(300) }), { name: 'l', type: '2', linkname: 'ok' }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxPathBytes',
    limits: { maxPathBytes: 255 },
  },
  {
    group: 'limits',
    name: 'a header that lies about a huge size is refused before any byte is inflated for it',
    // Declares 1 TiB; the limit check happens on the header, not on the (absent) data.
    build: () => tgz([manifestEntry(), { name: 'huge', size: 2 ** 40, body: '' }], { eof: false }),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxEntryBytes',
  },
  {
    group: 'limits',
    name: 'a flood of PAX metadata is stopped by the inflated-bytes cap',
    build: () =>
      tgz([manifestEntry(), ...Array.from({ length: 100 }, () => pax({ comment: 'z'.repeat(60_000) })), { name: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxTotalBytes',
    limits: { maxTotalBytes: 1024 * 1024, maxEntries: 10 },
  },
  {
    group: 'limits',
    name: 'an oversized PAX record is refused',
    build: () => tgz([manifestEntry(), pax({ comment: 'z'.repeat(100_000) }), { name: 'x', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_UNSAFE',
    reason: /ExtendedHeader header larger than/,
  },

  // --- gzip bombs ----------------------------------------------------------------------
  {
    group: 'gzip bombs',
    name: '1 GiB of zeros after the end marker is stopped early with default limits, memory stays flat',
    build: () => zeroBomb(tar([manifestEntry()], { eof: false })),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /follow the end-of-archive marker/,
    bomb: true,
  },
  {
    group: 'gzip bombs',
    name: '1 GiB of zeros in files the size caps allow is stopped by the inflation ratio past 64 MiB',
    // A 256 MiB file of zeros: its header is within the default caps; only its ratio (~1000:1) is not.
    build: () =>
      zeroBomb(tar([manifestEntry(), { name: 'zeros-0', size: 256 * 1024 * 1024, body: '' }], { eof: false })),
    code: 'SWARM_ERR_ARCHIVE_INFLATION_RATIO',
    bomb: true,
    check: (error) => assertStoppedAt(error, 64 * 1024 * 1024, 100),
  },
  {
    group: 'gzip bombs',
    name: 'the inflation ratio and its floor are settable (floor 1 MiB, ratio 50)',
    build: () =>
      zeroBomb(tar([manifestEntry(), { name: 'zeros-0', size: 256 * 1024 * 1024, body: '' }], { eof: false })),
    code: 'SWARM_ERR_ARCHIVE_INFLATION_RATIO',
    limits: { inflationFloorBytes: 1024 * 1024, maxInflationRatio: 50 },
    bomb: true,
    check: (error) => assertStoppedAt(error, 1024 * 1024, 50),
  },
  {
    group: 'gzip bombs',
    name: '1 GiB entry of zeros is refused at its header by the total size cap',
    build: () => zeroBomb(tar([manifestEntry(), { name: 'zeros', size: 2 ** 30, body: '' }], { eof: false })),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxTotalBytes',
    limits: { maxTotalBytes: 64 * 1024 * 1024 },
    bomb: true,
  },

  // --- corrupt archives ----------------------------------------------------------------
  {
    group: 'corrupt archives',
    name: 'truncated gzip is SWARM_ERR_ARCHIVE_CORRUPT',
    build() {
      const whole = tgz([manifestEntry(), ...trailingFiles(50)]);
      return whole.subarray(0, Math.floor(whole.length / 2));
    },
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /gzip/,
  },
  {
    group: 'corrupt archives',
    name: 'tar truncated inside an entry, in a valid gzip, is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () =>
      gzipSync(
        tar([manifestEntry(), { name: 'big', body: Buffer.alloc(10_000, 7) }], { eof: false }).subarray(0, 2048),
      ),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  {
    group: 'corrupt archives',
    name: 'tar without its end-of-archive marker, in a valid gzip, is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => gzipSync(tar([manifestEntry(), { name: 'big', body: Buffer.alloc(10_000, 7) }], { eof: false })),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /end-of-archive marker/,
  },
  {
    group: 'corrupt archives',
    name: 'a plain tar, not gzipped, is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tar([manifestEntry()]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  {
    group: 'corrupt archives',
    name: 'random text, not an archive, is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => Buffer.from('this is not an archive at all, just some text'.repeat(40)),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  {
    group: 'corrupt archives',
    name: 'an empty file is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => Buffer.alloc(0),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  {
    group: 'corrupt archives',
    name: 'a gzip inside the gzip is refused, not inflated past the byte counting',
    build: () => gzipSync(tgz([manifestEntry()])),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /compressed twice/,
  },
  {
    group: 'corrupt archives',
    name: 'a bad header checksum is SWARM_ERR_ARCHIVE_CORRUPT, not skipped',
    build: () => tgz([manifestEntry(), { name: 'a', body: 'x', badChecksum: true }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /checksum/,
  },
  // node-tar 7.5 reads a size field it cannot use as "no size" and extracts the entry as an
  // empty file, where GNU tar refuses the archive: a disagreement on where an entry ends.
  {
    group: 'corrupt archives',
    name: 'a negative base-256 size field (-1) is SWARM_ERR_ARCHIVE_CORRUPT, not an empty file',
    // The files after it are never written (the extraction test lists what dest holds).
    build: () => tgz([manifestEntry(), { name: 'neg', sizeField: Buffer.alloc(12, 0xff) }, ...trailingFiles(50)]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"neg" has a negative or unreadable size field/,
  },
  {
    group: 'corrupt archives',
    name: 'a negative size (-2) on a symlink is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tgz([manifestEntry(), { name: 'l', type: '2', linkname: 'release.json', sizeField: minusTwo() }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"l" has a negative or unreadable size field/,
  },
  {
    group: 'corrupt archives',
    name: 'an octal size field that is no number is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tgz([manifestEntry(), { name: 'nan', sizeField: Buffer.from('zzzzzzzzzzz\0') }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"nan" has a negative or unreadable size field/,
  },
  {
    group: 'corrupt archives',
    name: 'an octal size field with a minus sign is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tgz([manifestEntry(), { name: 'minus', sizeField: Buffer.from('-0000000001\0') }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"minus" has a negative or unreadable size field/,
  },
  {
    group: 'corrupt archives',
    name: 'a PAX size that is not a whole number of bytes is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tgz([manifestEntry(), pax({ size: '1.5' }), { name: 'half', body: 'ab' }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"half" declares a size of 1\.5/,
  },
  {
    group: 'corrupt archives',
    name: 'a PAX size past 2^53 on a file is refused by the size cap',
    build: () => tgz([manifestEntry(), pax({ size: '99999999999999999999' }), { name: 'f', body: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
    limit: 'maxEntryBytes',
  },
  {
    group: 'corrupt archives',
    name: 'a PAX size past 2^53 on a symlink is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => tgz([manifestEntry(), pax({ size: '99999999999999999999' }), { name: 'l', type: '2', linkname: 'x' }]),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
    reason: /"l" declares a size of 100000000000000000000 bytes/,
  },
  {
    group: 'corrupt archives',
    name: 'gzipped garbage that is not tar is SWARM_ERR_ARCHIVE_CORRUPT',
    build: () => gzipSync(Buffer.alloc(4096, 'A')),
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },

  // --- release.json --------------------------------------------------------------------
  {
    group: 'release.json',
    name: 'release.json missing is SWARM_ERR_RELEASE_MANIFEST_MISSING',
    build: () => tgz([{ name: 'server.js', body: 'x' }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING',
  },
  {
    group: 'release.json',
    name: 'release.json only in a subdirectory does not count',
    build: () => tgz([{ name: 'app/release.json', body: '{}' }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING',
  },
  {
    group: 'release.json',
    name: 'Release.json in another case does not count',
    build: () =>
      tgz([
        { ...manifestEntry(), name: 'Release.json' },
        { name: 'x.js', body: 'x' },
      ]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING',
  },
  {
    group: 'release.json',
    name: 'release.json being a symlink is refused (even to a valid manifest inside)',
    build: () =>
      tgz([
        { name: 'real.json', body: JSON.stringify({ name: 'a', version: '1', start: ['x'] }) },
        { name: 'release.json', type: '2', linkname: 'real.json' },
      ]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    reason: /found a symlink/,
  },
  {
    group: 'release.json',
    name: 'release.json being a directory is refused',
    build: () => tgz([{ name: 'release.json/', type: '5' }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    reason: /found a directory/,
  },
  {
    group: 'release.json',
    name: 'release.json being a directory only implied by an entry below it is refused',
    build: () => tgz([{ name: 'release.json/x', body: '{}' }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    reason: /found a directory/,
  },
  {
    group: 'release.json',
    name: 'release.json over 1 MiB is refused by its size, unread',
    build: () => tgz([{ name: 'release.json', body: `{"pad":"${'p'.repeat(1024 * 1024)}"}` }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    reason: /at most 1048576 are accepted/,
  },
  {
    group: 'release.json',
    name: 'release.json that is not JSON is refused',
    build: () => tgz([{ name: 'release.json', body: '{"name": "app",' }]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    reason: /not valid JSON/,
  },
  {
    group: 'release.json',
    name: 'an invalid release.json lists its problems',
    build: () => tgz([manifestEntry({ name: 'a/b' })]),
    code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    check: (error) => assert.equal(error.details.problems.length, 3),
  },
];

/** Check `error` against what `row` expects: code, reason, limit and the row's own checks. */
export async function assertRefusal(error: any, row: HostileArchive, base: string): Promise<void> {
  assert.equal(error?.code, row.code, `${error?.code}: ${error?.message}`);
  if (row.reason) {
    const text = row.code === 'SWARM_ERR_ARCHIVE_UNSAFE' ? error.details.reason : error.message;
    assert.match(text, row.reason);
  }
  if (row.code === 'SWARM_ERR_ARCHIVE_UNSAFE') assert.equal(typeof error.details.entry, 'string');
  if (row.limit) {
    assert.equal(error.details.limit, row.limit);
    assert.equal(typeof error.details.value, 'number');
  }
  await row.check?.(error, base);
}
