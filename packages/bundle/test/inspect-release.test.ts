/**
 * inspectRelease: the checks of extraction without the writes. Every row of the hostile table
 * (test/helpers/hostile-archives.ts) is read by both, which must refuse it with the same code
 * and reason — one set of rules, two writers — and the inspection must leave nothing behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extractRelease, inspectRelease, packRelease } from '../src/index.js';
import { HOSTILE_ARCHIVES, assertRefusal } from './helpers/hostile-archives.js';
import { manifestEntry, tar, tgz } from './helpers/raw-tar.js';

let base: string;
let counter = 0;
/** case | extraction | inspection, printed at the end. */
const table: string[] = [];

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'swarm-inspect-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
  process.stderr.write(`\ninspect vs extract (${table.length} hostile archives)\n${table.join('\n')}\n`);
});

/** `archive` written as `case-N/release.tgz`, alone in its directory. */
async function caseFile(archive: Buffer): Promise<{ dir: string; tarball: string }> {
  const dir = join(base, `case-${++counter}`);
  await mkdir(dir);
  const tarball = join(dir, 'release.tgz');
  await writeFile(tarball, archive);
  return { dir, tarball };
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  let error: any;
  await assert.rejects(promise, (err: any) => {
    error = err;
    return true;
  });
  return error;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('hostile archives: inspection refuses what extraction refuses, with the same code', () => {
  for (const bombs of [false, true]) {
    // The bombs one at a time: they assert on the process's memory (inspection runs on this thread).
    describe(bombs ? 'gzip bombs' : 'entries, limits, corruption, release.json', { concurrency: bombs ? 1 : 4 }, () => {
      for (const row of HOSTILE_ARCHIVES.filter((r) => (r.bomb === true) === bombs)) {
        test(`${row.group}: ${row.name}`, async () => {
          const { dir, tarball } = await caseFile(await row.build(base));
          const rssBefore = process.memoryUsage().rss;
          const inspected = await rejection(inspectRelease(tarball, { limits: row.limits ?? {} }));
          if (row.bomb) {
            assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'RSS grew by more than 200 MB');
          }
          assert.deepEqual(await readdir(dir), ['release.tgz'], 'the inspection wrote something');
          const extracted = await rejection(extractRelease(tarball, join(dir, 'dest'), { limits: row.limits ?? {} }));
          table.push(`${inspected.code === extracted.code ? 'same' : 'DIFF'}  ${extracted.code}  ${row.name}`);

          assert.equal(inspected.code, extracted.code, `inspect ${inspected.message} / extract ${extracted.message}`);
          assert.equal(inspected.details?.reason, extracted.details?.reason);
          assert.equal(inspected.details?.limit, extracted.details?.limit);
          await assertRefusal(inspected, row, base);
        });
      }
    });
  }
});

describe('a valid release', { concurrency: 4 }, () => {
  let tree: string;
  let packed: Awaited<ReturnType<typeof packRelease>>;

  before(async () => {
    tree = join(base, 'tree');
    await mkdir(join(tree, 'lib', 'deep'), { recursive: true });
    const manifest = { name: 'web', version: '1.4.2', start: ['node', 'server.js'], health: { tcp: '127.0.0.1:1' } };
    await writeFile(join(tree, 'release.json'), JSON.stringify(manifest));
    await writeFile(join(tree, 'server.js'), 'console.log(1)\n');
    await writeFile(join(tree, 'lib', 'deep', 'big.bin'), Buffer.alloc(300_000, 7));
    await symlink('lib/deep/big.bin', join(tree, 'link'));
    packed = await packRelease({ tree, out: join(base, 'web.tgz') });
  });

  test('is accepted: its manifest, the counts extraction reports, the digest and size of the file', async () => {
    const result = await inspectRelease(packed.file);
    const extracted = await extractRelease(packed.file, join(base, 'web-extracted'));
    assert.deepEqual(result.manifest, extracted.manifest);
    assert.equal(result.manifest.name, 'web');
    assert.deepEqual(result.manifest.health, { tcp: '127.0.0.1:1' });
    assert.equal(result.entries, extracted.entries);
    assert.equal(result.bytes, extracted.bytes);
    assert.equal(result.sha256, packed.sha256);
    assert.equal(result.sha256, sha256(await readFile(packed.file)));
    assert.equal(result.size, (await stat(packed.file)).size);
    // release.json byte for byte, as in the tree (the config blob of a published artifact).
    assert.ok(result.manifestBytes.equals(await readFile(join(tree, 'release.json'))));
  });

  test('the digest covers the whole file, zero padding after the gzip stream included', async () => {
    // Extraction accepts zeros after the gzip member: the digest must still be the file's.
    const padded = Buffer.concat([await readFile(packed.file), Buffer.alloc(3 * 1024 * 1024)]);
    const { tarball } = await caseFile(padded);
    const result = await inspectRelease(tarball);
    assert.equal(result.size, padded.length);
    assert.equal(result.sha256, sha256(padded));
    assert.notEqual(result.sha256, packed.sha256);
  });

  test('a release of one entry: exactly what it holds', async () => {
    const archive = gzipSync(tar([manifestEntry()]));
    const { tarball } = await caseFile(archive);
    const result = await inspectRelease(tarball);
    assert.deepEqual(result, {
      manifest: { name: 'app', version: '1.0.0', start: ['node', 'x.js'] },
      entries: 1,
      bytes: Buffer.byteLength(JSON.stringify({ name: 'app', version: '1.0.0', start: ['node', 'x.js'] })),
      sha256: sha256(archive),
      size: archive.length,
      manifestBytes: Buffer.from(JSON.stringify({ name: 'app', version: '1.0.0', start: ['node', 'x.js'] })),
    });
  });
});

describe('stopping and failing', { concurrency: 4 }, () => {
  test('an aborted signal stops the inspection with its reason', async () => {
    const { tarball } = await caseFile(tgz([manifestEntry()]));
    const controller = new AbortController();
    const pending = inspectRelease(tarball, { signal: controller.signal });
    // Before the first chunk is read: the next chunk boundary sees it.
    controller.abort();
    const error = await rejection(pending);
    assert.equal(error, controller.signal.reason);
    assert.equal(error.name, 'AbortError');
    await assert.rejects(inspectRelease(tarball, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  test('invalid limits are SWARM_ERR_CONFIG_INVALID, every one listed', async () => {
    const { tarball } = await caseFile(tgz([manifestEntry()]));
    const error = await rejection(inspectRelease(tarball, { limits: { maxEntries: 0, maxDepth: 1.5 } }));
    assert.equal(error.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.equal(error.details.problems.length, 2);
  });

  test('a file that cannot be read fails with the file system error', async () => {
    await assert.rejects(inspectRelease(join(base, 'no-such.tgz')), { code: 'ENOENT' });
  });
});
