/**
 * Hostile inputs (issue 7 §4), shared by test/reliability/hostile-inputs.test.ts (the fast
 * subset) and test/reliability/long/hostile-inputs-all.test.ts (every case). Every case goes
 * through the real HTTPS route of a real updater (POST /update as the master, mTLS) and is
 * named after what it guards against — archive tricks (node-tar's published advisories among
 * them), bombs, malformed multipart, bad release.json, digest and size lies. After each one:
 * the right status and code, nothing written outside staging, nothing staged, the active
 * release untouched (same tree, same agent process) and the updater healthy.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { fixtureRelease, type KnownRelease } from './fixture.js';
import { checkHost } from './invariants.js';
import { killProcessesUnder } from './processes.js';
import { Results } from './results.js';
import {
  call,
  createPkiFixture,
  gnuLong,
  header,
  openRequest,
  pax,
  readJournal,
  startTestUpdater,
  tar,
  tgz,
  type Answer,
  type PkiFixture,
  type RawEntry,
  type TestUpdater,
  waitFor,
} from './package-helpers.js';

const CAP = 4 * 1024 * 1024;
const LIMITS = {
  extractMaxEntries: 2000,
  extractMaxTotalBytes: 32 * 1024 * 1024,
  extractMaxEntryBytes: 16 * 1024 * 1024,
  extractMaxDepth: 16,
  extractMaxPathBytes: 1024,
  // Below the total cap, so that a bomb within every size cap meets the ratio first.
  extractInflationFloorBytes: 8 * 1024 * 1024,
};
const RECEIVE_TIMEOUT_MS = 2500;
const IDLE_TIMEOUT_MS = 500;

let fx: PkiFixture;
let u: TestUpdater;
let v1: KnownRelease;
/** Where escaping entries aim (absolute paths, symlink targets): must stay empty. */
let outside: string;
let agentPid: number;
let inputs = 0;

// --- building and sending inputs ---------------------------------------------------------

const MANIFEST = { name: 'web', version: '6.6.6', start: ['node', 'agent.mjs'] };
const M: RawEntry = { name: 'release.json', body: JSON.stringify(MANIFEST) };
const manifest = (body: string): RawEntry => ({ name: 'release.json', body });
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Push `archive` as the master, with its true digest (and size) unless told otherwise. */
async function pushArchive(archive: Buffer, declared: { sha256?: string; size?: number } = {}): Promise<Answer> {
  const file = join(fx.root, `input-${++inputs}.tgz`);
  await writeFile(file, archive);
  return u.pushParts([
    { name: 'sha256', value: declared.sha256 ?? sha(archive) },
    ...(declared.size !== undefined ? [{ name: 'size', value: String(declared.size) }] : []),
    { name: 'tarball', filename: 'release.tgz', path: file },
  ]);
}

/** POST /update with a hand-written body (any content type, any bytes). */
function postRaw(body: Buffer | string, headers: Record<string, string | number>): Promise<Answer> {
  return call({
    port: u.port,
    method: 'POST',
    path: '/update',
    caPem: fx.ca.certPem,
    client: fx.master,
    headers: { 'content-length': Buffer.byteLength(body), ...headers },
    body,
  });
}

const B = 'hostileboundary';
const field = (name: string, value: string) =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (data: Buffer | string, name = 'tarball', extraHeaders = '') =>
  Buffer.concat([
    Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="r.tgz"\r\n${extraHeaders}Content-Type: application/gzip\r\n\r\n`,
    ),
    Buffer.from(data),
    Buffer.from('\r\n'),
  ]);
const form = (...pieces: (string | Buffer)[]) =>
  postRaw(Buffer.concat([...pieces.map((p) => Buffer.from(p)), Buffer.from(`--${B}--\r\n`)]), {
    'content-type': `multipart/form-data; boundary=${B}`,
  });

/** A header whose size field is raw bytes (base-256, negative…), with a correct checksum. */
function sizedHeader(name: string, size: Buffer): Buffer {
  return header({ name, sizeField: size });
}

/**
 * 1 GiB of zeros as 64 gzip members of 16 MiB (~1 MB on the wire) after `prefix`, the last
 * member cut short: an extractor that inflated it all would report a broken gzip stream
 * instead of its own reason (packages/bundle/test/hostile-archives.test.ts).
 */
let zeroMember: Buffer | undefined;
function zeroBomb(prefix: Buffer): Buffer {
  zeroMember ??= gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  const member = zeroMember;
  return Buffer.concat([
    gzipSync(prefix),
    ...Array.from({ length: 63 }, () => member),
    member.subarray(0, member.length - 8),
  ]);
}

// --- the checks after each case ------------------------------------------------------------

/** Names containing "pwned" anywhere below `dir`: an escaped write. */
async function pwned(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name.includes('pwned')) found.push(join(entry.parentPath ?? dir, entry.name));
  }
  return found;
}

async function assertUntouched(): Promise<void> {
  // A cut connection ends the operation a moment after the socket closed.
  await waitFor('the updater to be idle', async () => (await u.health()).body.busy === false);
  const problems = await checkHost({ installDir: u.installDir, agentPort: u.agentPort, client: u }, { active: v1 });
  assert.deepEqual(problems, [], 'the host is not as it was');
  assert.equal((await u.health()).body.agent.pid, agentPid, 'the agent was restarted');
  assert.deepEqual(await readdir(outside), [], 'something was written where an escaping entry aimed');
  assert.deepEqual(await pwned(fx.root), [], 'an entry escaped the staging directory');
}

// --- the cases ---------------------------------------------------------------------------

interface HostileCase {
  /** What it guards against (the test's name). */
  readonly name: string;
  readonly group: string;
  readonly send: () => Promise<Answer | 'closed'>;
  readonly status: number | 'closed';
  /** The error code of the answer — or, for a cut connection, of the history entry. */
  readonly code: string | null;
  /** More checks on the answer. */
  readonly also?: (answer: Answer) => void | Promise<void>;
  /** A variant of an attack the fast subset already covers: run by the long variant only. */
  readonly longOnly?: boolean;
}

/** Mark a case as a variant for the long run. */
const longOnly = (c: HostileCase): HostileCase => ({ ...c, longOnly: true });

const archive = (name: string, entries: () => RawEntry[], code: string, also?: HostileCase['also']): HostileCase => ({
  name,
  group: 'archive',
  send: () => pushArchive(tgz(entries())),
  status: 422,
  code,
  ...(also ? { also } : {}),
});
const unsafe = (name: string, entries: () => RawEntry[]) => archive(name, entries, 'SWARM_ERR_ARCHIVE_UNSAFE');
const badManifest = (name: string, body: () => string, code = 'SWARM_ERR_RELEASE_MANIFEST_INVALID') => ({
  ...archive(name, () => [manifest(body()), { name: 'agent.mjs', body: '' }], code),
  group: 'release.json',
});
const withManifest = (m: object) => JSON.stringify({ ...MANIFEST, ...m });
const marker = () => join(outside, 'install-ran');

const CASES: HostileCase[] = [
  // Paths.
  unsafe('zip-slip: an entry climbing out with ../', () => [M, { name: '../../../pwned-dotdot', body: 'x' }]),
  longOnly(unsafe("'..' hidden in the middle of a path", () => [M, { name: 'a/../../../pwned-mid', body: 'x' }])),
  unsafe('absolute path with repeated slashes (GHSA-3jfq-g458-7qm9)', () => [
    M,
    { name: `////${outside.slice(1)}/pwned-abs`, body: 'x' },
  ]),
  longOnly(
    unsafe("ustar prefix field smuggling '..'", () => [M, { name: 'pwned-prefix', prefix: '../../..', body: 'x' }]),
  ),
  unsafe('backslash traversal ..\\..\\x (GHSA-9r2w-394v-53qc)', () => [M, { name: '..\\..\\pwned-bs', body: 'x' }]),
  unsafe('drive-relative path C:../x (GHSA-5955-9wpr-37jh)', () => [M, { name: 'C:../pwned-drive', body: 'x' }]),
  unsafe("PAX path override to '../'", () => [M, pax({ path: '../../../pwned-pax' }), { name: 'innocent', body: 'x' }]),
  longOnly(
    unsafe("GNU long name (././@LongLink) to '../'", () => [
      M,
      gnuLong('../../../pwned-gnu'),
      { name: 'innocent', body: 'x' },
    ]),
  ),
  // Symlinks.
  unsafe('symlink to an absolute path, then a write through it', () => [
    M,
    { name: 'out', type: '2', linkname: outside },
    { name: 'out/pwned-sym', body: 'x' },
  ]),
  longOnly(unsafe('symlink escaping with ../..', () => [M, { name: 'sub/up', type: '2', linkname: '../../../..' }])),
  unsafe('symlink poisoning: a directory, a symlink of the same name, a file through it (GHSA-r628-mhmh-qjhw)', () => [
    M,
    { name: 'a/', type: '5' },
    { name: 'a', type: '2', linkname: outside },
    { name: 'a/pwned-poison', body: 'x' },
  ]),
  longOnly(
    unsafe('a write below a symlink that stays inside (a -> ., then a/x)', () => [
      M,
      { name: 'a', type: '2', linkname: '.' },
      { name: 'a/x', body: 'x' },
    ]),
  ),
  longOnly(
    unsafe("symlink chain that escapes only once resolved ('s/t -> ../l/..', 'l -> .')", () => [
      M,
      { name: 's/t', type: '2', linkname: '../l/..' },
      { name: 'l', type: '2', linkname: '.' },
    ]),
  ),
  longOnly(
    unsafe('PAX linkpath override pointing a symlink outside', () => [
      M,
      pax({ linkpath: outside }),
      { name: 'innocent', type: '2', linkname: 'ok' },
    ]),
  ),
  longOnly(
    unsafe('GNU long link (K) pointing a symlink outside', () => [
      M,
      gnuLong('../../../../../etc', 'K'),
      { name: 'innocent', type: '2', linkname: 'ok' },
    ]),
  ),
  // Hard links, devices, types.
  longOnly(
    unsafe('hard link to a file outside (/etc/passwd)', () => [
      M,
      { name: 'passwd', type: '1', linkname: '/etc/passwd' },
    ]),
  ),
  unsafe('hard link from a deep entry resolved from another base (GHSA-34x7-hfp2-rc4v)', () => [
    M,
    { name: 'a/b/c/d/x', type: '1', linkname: '../../../../etc/passwd' },
  ]),
  longOnly(
    unsafe('hard link with a drive-relative target (GHSA-qffp-2rhf-9h96)', () => [
      M,
      { name: 'h', type: '1', linkname: 'C:../../etc/passwd' },
    ]),
  ),
  unsafe('hard link through a symlink chain (GHSA-83g3-92jg-28cx)', () => [
    M,
    { name: 'l', type: '2', linkname: '.' },
    { name: 'h', type: '1', linkname: 'l/../../../etc/passwd' },
  ]),
  longOnly(
    unsafe('hard link to a file inside (never extracted: it would alias a checked file)', () => [
      M,
      { name: 'a.txt', body: 'a' },
      { name: 'b.txt', type: '1', linkname: 'a.txt' },
    ]),
  ),
  unsafe('character device', () => [M, { name: 'null', type: '3' }]),
  longOnly(unsafe('block device', () => [M, { name: 'sda', type: '4' }])),
  longOnly(unsafe('FIFO', () => [M, { name: 'pipe', type: '6' }])),
  longOnly(
    unsafe('GNU sparse entry (an unsupported type is refused, not skipped)', () => [M, { name: 'sp', type: 'S' }]),
  ),
  // Set-id bits: refused, not installed with the bit dropped (wiki/reference/guarantees.md#hostile-archives-are-refused, issue 12).
  archive(
    'a setuid file',
    () => [M, { name: 'agent.mjs', body: '' }, { name: 'bin/helper', body: '#!/bin/sh\n', mode: 0o4755 }],
    'SWARM_ERR_ARCHIVE_UNSAFE',
    (a) => {
      assert.equal(a.body.entry, 'bin/helper');
      assert.match(a.body.reason, /^setuid bit set/);
    },
  ),
  longOnly(
    archive(
      'a setgid file',
      () => [M, { name: 'agent.mjs', body: '' }, { name: 'sgid', body: 'x', mode: 0o2755 }],
      'SWARM_ERR_ARCHIVE_UNSAFE',
      (a) => assert.match(a.body.reason, /^setgid bit set/),
    ),
  ),
  archive(
    'a setgid directory',
    () => [M, { name: 'shared/', type: '5', mode: 0o2775 }, { name: 'shared/agent.mjs', body: '' }],
    'SWARM_ERR_ARCHIVE_UNSAFE',
    (a) => {
      assert.equal(a.body.entry, 'shared/');
      assert.match(a.body.reason, /^setgid bit set/);
    },
  ),
  // Collisions.
  unsafe('unicode collision ß / ss on a normalizing file system (GHSA-r6q2-hw4h-h46w)', () => [
    M,
    { name: 'sub/', type: '5' },
    { name: 'ß', type: '2', linkname: 'sub' },
    { name: 'ss/x', body: 'x' },
  ]),
  longOnly(
    unsafe('unicode NFC / NFD collision of a symlink and a directory (GHSA-qq89-hq3f-393p)', () => [
      M,
      { name: 'sub/', type: '5' },
      { name: '\u00e9', type: '2', linkname: 'sub' },
      { name: 'e\u0301/x', body: 'x' },
    ]),
  ),
  longOnly(
    unsafe('case collision of a symlink and a directory (case-insensitive file systems)', () => [
      M,
      { name: 'sub/', type: '5' },
      { name: 'Lib', type: '2', linkname: 'sub' },
      { name: 'lib/x', body: 'x' },
    ]),
  ),
  longOnly(
    unsafe('duplicate entry (a second write replacing a checked file)', () => [
      M,
      { name: 'a.txt', body: 'one' },
      { name: 'a.txt', body: 'two' },
    ]),
  ),
  longOnly(
    unsafe('a file, then a directory of the same name', () => [
      M,
      { name: 'a', body: 'x' },
      { name: 'a/b', body: 'y' },
    ]),
  ),
  // Sizes and limits.
  longOnly(
    archive(
      'a header lying about a 1 TiB entry (refused at the header)',
      () => [M, { name: 'huge', size: 2 ** 40, body: '' }],
      'SWARM_ERR_ARCHIVE_LIMIT',
    ),
  ),
  longOnly({
    name: 'a base-256 size field of 64 GiB',
    group: 'archive',
    send: () =>
      pushArchive(
        gzipSync(
          Buffer.concat([
            tar([M], { eof: false }),
            sizedHeader('big', Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0])),
            Buffer.alloc(1024),
          ]),
        ),
      ),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
  }),
  longOnly(
    archive(
      'a PAX size of 10^20 bytes',
      () => [M, pax({ size: '99999999999999999999' }), { name: 'x', body: 'abc' }],
      'SWARM_ERR_ARCHIVE_LIMIT',
    ),
  ),
  {
    // node-tar 7.5 reads the -1 as "no size" and would extract an empty file where GNU tar
    // refuses the archive: two readers disagreeing on where an entry ends (tar smuggling).
    name: 'a negative base-256 size field (-1), read by node-tar as an empty file',
    group: 'archive',
    send: () =>
      pushArchive(
        gzipSync(
          Buffer.concat([
            tar([M], { eof: false }),
            sizedHeader('pwned-neg', Buffer.alloc(12, 0xff)),
            tar([{ name: 'agent.mjs', body: '' }]),
          ]),
        ),
      ),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  longOnly(
    archive(
      'a PAX size that is not a whole number of bytes (1.5)',
      () => [M, pax({ size: '1.5' }), { name: 'pwned-half', body: 'ab' }],
      'SWARM_ERR_ARCHIVE_CORRUPT',
    ),
  ),
  longOnly(
    unsafe('an oversized PAX record', () => [M, pax({ comment: 'z'.repeat(100_000) }), { name: 'x', body: 'x' }]),
  ),
  archive(
    'entry-count bomb (3000 empty files over a cap of 2000)',
    () => [M, ...Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, body: '' }))],
    'SWARM_ERR_ARCHIVE_LIMIT',
  ),
  archive(
    'directory-depth DoS (GHSA-f5x3-32g6-xq36)',
    () => [M, { name: `${Array.from({ length: 40 }, (_, i) => `d${i}`).join('/')}/f`, body: 'x' }],
    'SWARM_ERR_ARCHIVE_LIMIT',
  ),
  longOnly(
    archive(
      'a path longer than the cap (PAX path)',
      // Segments under NAME_MAX (255 bytes, refused on its own as UNSAFE), 1206 bytes in all.
      () => [M, pax({ path: `${`${'x'.repeat(200)}/`.repeat(6)}f` }), { name: 'short', body: 'x' }],
      'SWARM_ERR_ARCHIVE_LIMIT',
    ),
  ),
  {
    name: 'gzip bomb: 1 GiB of zeros after the end-of-archive marker',
    group: 'bomb',
    send: () => pushArchive(zeroBomb(tar([M], { eof: false }))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  {
    name: 'gzip bomb: 1 GiB of zeros inside a file every size cap allows (stopped by the inflation ratio)',
    group: 'bomb',
    send: () => pushArchive(zeroBomb(tar([M, { name: 'zeros', size: 16 * 1024 * 1024, body: '' }], { eof: false }))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_INFLATION_RATIO',
    also: (a) => {
      // At the first 256 KiB inflater chunk past the floor: the bytes say it stopped early.
      const floor = LIMITS.extractInflationFloorBytes;
      assert.ok(a.body.inflatedBytes > floor && a.body.inflatedBytes <= floor + 256 * 1024, a.text);
      assert.ok(a.body.inflatedBytes > 100 * a.body.compressedBytes, a.text);
    },
  },
  longOnly({
    name: 'gzip bomb: a 1 GiB entry of zeros (refused at its header by the total cap)',
    group: 'bomb',
    send: () => pushArchive(zeroBomb(tar([M, { name: 'zeros', size: 2 ** 30, body: '' }], { eof: false }))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_LIMIT',
  }),
  longOnly({
    name: 'a gzip inside the gzip',
    group: 'bomb',
    send: () => pushArchive(gzipSync(tgz([M]))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  // Corrupt containers.
  {
    name: 'truncated gzip',
    group: 'corrupt',
    send: () => {
      const whole = tgz([M, ...Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, body: `file ${i}` }))]);
      return pushArchive(whole.subarray(0, Math.floor(whole.length / 2)));
    },
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  },
  longOnly({
    name: 'a plain tar, not gzipped',
    group: 'corrupt',
    send: () => pushArchive(tar([M])),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  longOnly({
    name: 'random bytes',
    group: 'corrupt',
    send: () => pushArchive(Buffer.from('this is not an archive, just some text. '.repeat(50))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  longOnly({
    name: 'an empty upload',
    group: 'corrupt',
    send: () => pushArchive(Buffer.alloc(0)),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  longOnly({
    name: 'a bad header checksum (not skipped)',
    group: 'corrupt',
    send: () => pushArchive(tgz([M, { name: 'a', body: 'x', badChecksum: true }])),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  longOnly({
    name: 'a tar without its end-of-archive marker',
    group: 'corrupt',
    send: () => pushArchive(gzipSync(tar([M, { name: 'a', body: Buffer.alloc(5000, 7) }], { eof: false }))),
    status: 422,
    code: 'SWARM_ERR_ARCHIVE_CORRUPT',
  }),
  // release.json.
  {
    ...archive('no release.json', () => [{ name: 'server.js', body: 'x' }], 'SWARM_ERR_RELEASE_MANIFEST_MISSING'),
    group: 'release.json',
  },
  longOnly({
    ...archive(
      'release.json only in a subdirectory',
      () => [{ name: 'app/release.json', body: JSON.stringify(MANIFEST) }],
      'SWARM_ERR_RELEASE_MANIFEST_MISSING',
    ),
    group: 'release.json',
  }),
  longOnly({
    ...archive(
      'release.json being a symlink (to a valid manifest)',
      () => [
        { name: 'real.json', body: JSON.stringify(MANIFEST) },
        { name: 'release.json', type: '2', linkname: 'real.json' },
      ],
      'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    ),
    group: 'release.json',
  }),
  longOnly({
    ...archive(
      'release.json being a directory',
      () => [{ name: 'release.json/', type: '5' }],
      'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    ),
    group: 'release.json',
  }),
  longOnly(badManifest('release.json that is not JSON', () => '{ name: web')),
  {
    ...badManifest('release.json missing name, version and start', () => '{}'),
    also: (a) => assert.ok(a.body.problems?.length >= 3, a.text),
  },
  longOnly(
    badManifest('wrong types (name a number, version an array)', () => withManifest({ name: 7, version: ['1'] })),
  ),
  badManifest('start not an array (a shell string)', () => withManifest({ start: 'node agent.mjs; rm -rf /' })),
  longOnly(badManifest('start an empty array', () => withManifest({ start: [] }))),
  longOnly(badManifest('start with a non-string argument', () => withManifest({ start: ['node', 42] }))),
  longOnly(
    badManifest('absurd numbers (1e308, negative, a string)', () =>
      withManifest({ stopTimeoutMs: '10', health: { tcp: '127.0.0.1:1', healthyForMs: -1, deadlineMs: 1e308 } }),
    ),
  ),
  longOnly(badManifest('a duration over an hour (2^53 ms)', () => withManifest({ stopTimeoutMs: 2 ** 53 }))),
  badManifest(
    'a __proto__ key (prototype pollution)',
    () => `{"__proto__": {"polluted": true}, ${JSON.stringify(MANIFEST).slice(1)}`,
  ),
  badManifest('a version that would make the release directory a path (../../x)', () =>
    withManifest({ version: '../../pwned-version' }),
  ),
  longOnly(
    badManifest('a health URL that is not http(s) (file://)', () =>
      withManifest({ health: { url: 'file:///etc/passwd' } }),
    ),
  ),
  longOnly(badManifest('release.json over 1 MiB', () => withManifest({ padding: 'x'.repeat(1100 * 1024) }))),
  {
    ...badManifest('an invalid release.json whose install would run first', () =>
      withManifest({
        version: 'bad version',
        install: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker())}, '1')`],
      }),
    ),
    also: async () => assert.deepEqual(await readdir(outside), [], 'the install command ran'),
  },
  // Digest and size.
  {
    name: 'digest mismatch — and the unverified release’s install never runs',
    group: 'digest',
    send: () =>
      pushArchive(
        tgz([
          manifest(
            withManifest({ install: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker())}, '1')`] }),
          ),
        ]),
        { sha256: 'ab'.repeat(32) },
      ),
    status: 422,
    code: 'SWARM_ERR_UPLOAD_DIGEST_MISMATCH',
    also: async () => assert.deepEqual(await readdir(outside), [], 'the install command ran'),
  },
  {
    name: 'declared size smaller than the bytes sent (cut at the declared size)',
    group: 'digest',
    send: () => {
      const a = tgz([M, { name: 'a', body: Buffer.alloc(20_000, 1) }]);
      return pushArchive(a, { size: a.length - 100 });
    },
    status: 422,
    code: 'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
  },
  longOnly({
    name: 'declared size larger than the bytes sent',
    group: 'digest',
    send: () => {
      const a = tgz([M]);
      return pushArchive(a, { size: a.length + 1 });
    },
    status: 422,
    code: 'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
  }),
  {
    name: 'a sha256 that is not 64 hex digits',
    group: 'digest',
    send: () => pushArchive(tgz([M]), { sha256: 'z'.repeat(64) }),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_DIGEST_INVALID',
  },
  {
    name: 'no sha256 at all',
    group: 'digest',
    send: () => form(filePart(tgz([M]))),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_DIGEST_MISSING',
  },
  {
    name: 'sha256 sent twice (a second digest swapped in)',
    group: 'digest',
    send: () => form(field('sha256', sha(tgz([M]))), field('sha256', 'cd'.repeat(32)), filePart(tgz([M]))),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  // Multipart.
  {
    name: 'not multipart (a JSON body)',
    group: 'multipart',
    send: () => postRaw(JSON.stringify({ sha256: 'ab'.repeat(32) }), { 'content-type': 'application/json' }),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_NOT_MULTIPART',
  },
  {
    name: 'multipart without a boundary',
    group: 'multipart',
    send: () => postRaw('garbage', { 'content-type': 'multipart/form-data' }),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  {
    name: 'a field after the file (a digest swapped in after the bytes)',
    group: 'multipart',
    send: () => form(field('sha256', sha(tgz([M]))), filePart(tgz([M])), field('size', '10')),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  {
    name: 'a __proto__ field (prototype pollution through the form)',
    group: 'multipart',
    send: () => form(field('__proto__', 'x'), field('sha256', sha(tgz([M]))), filePart(tgz([M]))),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  longOnly({
    name: 'a constructor field',
    group: 'multipart',
    send: () => form(field('constructor', 'x'), field('sha256', sha(tgz([M]))), filePart(tgz([M]))),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  }),
  {
    name: 'two tarball parts',
    group: 'multipart',
    send: () => form(field('sha256', sha(tgz([M]))), filePart(tgz([M])), filePart(tgz([M]))),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  {
    name: 'the tarball sent as a plain field',
    group: 'multipart',
    send: () => form(field('sha256', sha(tgz([M]))), field('tarball', 'not a file')),
    status: 400,
    code: 'SWARM_ERR_UPLOAD_MALFORMED',
  },
  {
    name: 'huge request headers (64 KiB): refused by the HTTP parser',
    group: 'multipart',
    send: () =>
      postRaw(`--${B}--\r\n`, {
        'content-type': `multipart/form-data; boundary=${B}`,
        'x-padding': 'p'.repeat(64 * 1024),
      }),
    status: 431,
    code: null,
  },
  {
    name: 'a huge part header (100 KiB) is bounded and ignored (the active release re-sent: a no-op)',
    group: 'multipart',
    send: async () =>
      form(
        field('sha256', v1.sha256),
        filePart(await readFile(v1.file), 'tarball', `X-Padding: ${'p'.repeat(100 * 1024)}\r\n`),
      ),
    status: 200,
    code: null,
    also: (a) => assert.equal(a.body.outcome, 'unchanged'),
  },
  {
    name: 'a flood of part headers is bounded and ignored (the active release re-sent: a no-op)',
    group: 'multipart',
    send: async () =>
      form(
        field('sha256', v1.sha256),
        filePart(
          await readFile(v1.file),
          'tarball',
          Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''),
        ),
      ),
    status: 200,
    code: null,
    also: (a) => assert.equal(a.body.outcome, 'unchanged'),
  },
  {
    name: 'a truncated body (the form ends inside the file)',
    group: 'multipart',
    send: () => {
      const body = Buffer.concat([Buffer.from(field('sha256', sha(tgz([M])))), filePart(tgz([M]))]);
      return postRaw(body.subarray(0, body.length - 20), { 'content-type': `multipart/form-data; boundary=${B}` });
    },
    status: 400,
    code: 'SWARM_ERR_UPLOAD_INCOMPLETE',
  },
  {
    name: `slowloris: a byte every 100 ms is cut at the receive deadline (${RECEIVE_TIMEOUT_MS} ms)`,
    group: 'multipart',
    send: () => trickle(100),
    status: 'closed',
    code: 'SWARM_ERR_UPLOAD_INCOMPLETE',
  },
  {
    name: `a client gone silent after its first bytes is cut after ${IDLE_TIMEOUT_MS} ms`,
    group: 'multipart',
    send: () => trickle(null),
    status: 'closed',
    code: 'SWARM_ERR_UPLOAD_INCOMPLETE',
  },
  // The cap.
  {
    name: 'a Content-Length over the cap (refused before the body is read)',
    group: 'cap',
    send: async () => {
      const open = openRequest({
        port: u.port,
        caPem: fx.ca.certPem,
        client: fx.master,
        path: '/update',
        headers: { 'content-type': `multipart/form-data; boundary=${B}`, 'content-length': 10 * 1024 ** 3 },
      });
      open.req.write(Buffer.alloc(1024, 'a'));
      return open.answer;
    },
    status: 413,
    code: 'SWARM_ERR_UPLOAD_TOO_LARGE',
  },
  {
    name: 'a chunked tarball growing past the cap',
    group: 'cap',
    send: async () => {
      const open = openRequest({
        port: u.port,
        caPem: fx.ca.certPem,
        client: fx.master,
        path: '/update',
        headers: { 'content-type': `multipart/form-data; boundary=${B}`, 'transfer-encoding': 'chunked' },
      });
      open.req.write(field('sha256', '0'.repeat(64)));
      open.req.write(`--${B}\r\nContent-Disposition: form-data; name="tarball"; filename="big.tgz"\r\n\r\n`);
      open.req.write(Buffer.alloc(CAP + 1024 * 1024, 1));
      return open.answer;
    },
    status: 413,
    code: 'SWARM_ERR_UPLOAD_TOO_LARGE',
  },
  {
    name: 'a declared size over the cap',
    group: 'cap',
    send: () => pushArchive(tgz([M]), { size: CAP + 1 }),
    status: 413,
    code: 'SWARM_ERR_UPLOAD_TOO_LARGE',
  },
];

/**
 * Send the start of an upload, then one byte every `everyMs` (or nothing more when null)
 * until the updater hangs up: 'closed' if it did, as it must.
 */
async function trickle(everyMs: number | null): Promise<'closed'> {
  const open = openRequest({
    port: u.port,
    caPem: fx.ca.certPem,
    client: fx.master,
    path: '/update',
    headers: { 'content-type': `multipart/form-data; boundary=${B}`, 'content-length': CAP },
  });
  open.req.write(field('sha256', '0'.repeat(64)));
  open.req.write(`--${B}\r\nContent-Disposition: form-data; name="tarball"; filename="slow.tgz"\r\n\r\n`);
  let closed = false;
  void open.closed.then(() => (closed = true));
  const deadline = Date.now() + RECEIVE_TIMEOUT_MS * 3;
  while (!closed && Date.now() < deadline) {
    if (everyMs !== null && !open.req.destroyed) open.req.write(Buffer.from([1]));
    await sleep(everyMs ?? 50);
  }
  assert.equal(closed, true, 'the updater never hung up on the trickling client');
  return 'closed';
}

/**
 * Register the suite: `fast` runs the cases not marked `longOnly` (one or more per kind of
 * attack, at least 40 — `npm test`), `long` runs them all.
 */
export function hostileSuite(variant: 'fast' | 'long'): void {
  const results = new Results('hostile-inputs', variant, { uploadCap: CAP, ...LIMITS });
  const cases = variant === 'fast' ? CASES.filter((c) => !c.longOnly) : CASES;

  before(async () => {
    fx = await createPkiFixture();
    outside = join(fx.root, 'outside');
    await mkdir(outside);
    v1 = await fixtureRelease(join(fx.root, 'releases'), { version: '1.0.0' });
    u = await startTestUpdater(fx, {
      maxUploadBytes: CAP,
      receiveTimeoutMs: RECEIVE_TIMEOUT_MS,
      receiveIdleTimeoutMs: IDLE_TIMEOUT_MS,
      ...LIMITS,
    });
    const res = await u.push(v1);
    assert.equal(res.status, 200, res.text);
    agentPid = (await u.health()).body.agent.pid;
  });

  after(async () => {
    const refused = results.rows.filter((r) => r.ok).length;
    await results.finish('Hostile inputs', {
      'cases run': results.rows.length,
      'inputs refused as expected': refused,
    });
    await u?.close().catch(() => undefined);
    await killProcessesUnder(fx.root);
    await fx.cleanup();
  });

  describe('hostile inputs through POST /update: refused with the right code, host untouched', () => {
    for (const c of cases) {
      it(c.name, async () => {
        let got = '(threw)';
        let ok = false;
        try {
          const run = await runCase(c);
          got = run.got;
          if (c.also && run.answer !== 'closed') await c.also(run.answer);
          await assertUntouched();
          ok = true;
        } finally {
          results.add({ group: c.group, case: c.name, expected: `${c.status} ${c.code ?? ''}`.trim(), got, ok });
        }
      });
    }

    it(`the ${variant} case list has at least 40 distinct cases`, () => {
      assert.ok(cases.length >= 40, `${cases.length} cases`);
      assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
    });
  });
}

async function runCase(c: HostileCase): Promise<{ got: string; answer: Answer | 'closed' }> {
  const answer = await c.send();
  let got: string;
  if (answer === 'closed') {
    const last = (await readJournal(u.installDir)).history.at(-1);
    got = `closed, history ${last?.error?.code}`;
    assert.equal(c.status, 'closed', `expected ${c.status}, the connection was closed`);
    assert.equal(last?.error?.code, c.code);
  } else {
    got = `${answer.status} ${answer.body?.code ?? ''}`.trim();
    assert.equal(answer.status, c.status, answer.text.slice(0, 300));
    assert.equal(answer.body?.code ?? null, c.code, answer.text.slice(0, 300));
    if (c.code) {
      assert.equal(typeof answer.body.message, 'string');
      assert.equal(answer.body.stack, undefined, 'a stack trace went over the wire');
    }
  }
  return { got, answer };
}
