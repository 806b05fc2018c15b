/**
 * Issue 12 items 4 and 5, through the real POST /update route of a real updater (mTLS, as the
 * master) with its default extraction limits: an archive with a setuid or setgid entry, and a
 * gzip bomb whose headers every size cap allows, are refused with 422 and an archive code
 * naming what is wrong — before anything of theirs runs, with nothing left under releases/,
 * `current` and the agent as they were. Each archive is a complete, working release apart
 * from what is refused (its `install` writes a marker), so a missing check shows as a release
 * that went live, a marker written, or a 200.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { constants, createGzip } from 'node:zlib';
import type { PackResult } from '@swarm/bundle';
import {
  currentId,
  killSeenAgents,
  readJournal,
  releaseDirs,
  startTestUpdater,
  waitFor,
  type TestUpdater,
} from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { rawTar, tarHeader, writeRawTarball, type RawEntry } from './helpers/raw-tar.js';
import { buildRelease } from './helpers/releases.js';

const MIB = 1024 * 1024;
/** The default floor of the inflation ratio, and what one inflater chunk may add past it (safe-unpack.ts). */
const FLOOR = 64 * MIB;
const INFLATE_CHUNK = 256 * 1024;

let fx: PkiFixture;
let u: TestUpdater;
let v1: PackResult;
let agentPid: number;
let agentSource: string;
/** Written by the hostile releases' `install` step, which must never run. */
let marker: string;
let inputs = 0;
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  v1 = await buildRelease(root, { version: '1.0.0' });
  agentSource = await readFile(join(root, 'tree-1.0.0-good', 'agent.mjs'), 'utf8');
  marker = join(fx.root, 'install-ran');
  // Default extraction limits: the defaults are what must stop these.
  u = await startTestUpdater(fx);
  const res = await u.push(v1);
  assert.equal(res.status, 200, res.text);
  agentPid = (await u.health()).body.agent.pid;
  assert.ok(agentPid > 0);
});

after(async () => {
  await u?.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

/** A release.json that would go live (the fixture agent) after an install that leaves a marker. */
function manifest(version: string): RawEntry {
  return {
    name: 'release.json',
    content: JSON.stringify({
      name: 'web',
      version,
      start: ['node', 'agent.mjs', 'good'],
      install: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`],
      health: { url: 'http://127.0.0.1:${SWARM_AGENT_PORT}/health', healthyForMs: 300, deadlineMs: 5000 },
      stopTimeoutMs: 2000,
    }),
  };
}

async function push(file: string, sha256: string) {
  return u.pushParts([
    { name: 'sha256', value: sha256 },
    { name: 'tarball', filename: 'release.tgz', path: file },
  ]);
}

/** v1 still active and running the same agent; nothing staged or left; the install never ran. */
async function assertUntouched(): Promise<void> {
  await waitFor('the updater to be idle', async () => (await u.health()).body.busy === false);
  assert.equal(await currentId(u.installDir), idOf(v1), 'current moved');
  const retained = (await readJournal(u.installDir)).releases.map((r: { id: string }) => r.id).sort();
  assert.deepEqual(retained, [idOf(v1)]);
  assert.deepEqual(await releaseDirs(u.installDir), retained, 'a staging directory or release was left behind');
  const health = (await u.health()).body;
  assert.equal(health.active.id, idOf(v1));
  assert.equal(health.agent.pid, agentPid, 'the agent was restarted');
  assert.equal(health.agent.running, true);
  await assert.rejects(stat(marker), { code: 'ENOENT' }, 'the release’s install step ran');
}

describe('setuid and setgid entries: 422 SWARM_ERR_ARCHIVE_UNSAFE naming the entry, nothing extracted', () => {
  const cases: { name: string; entry: RawEntry; reason: RegExp }[] = [
    {
      name: 'a setuid file',
      entry: { name: 'bin/helper', content: '#!/bin/sh\nid\n', mode: 0o4755 },
      reason: /^setuid bit set \(mode 4755\)$/,
    },
    { name: 'a setgid file', entry: { name: 'sgid-tool', content: 'x', mode: 0o2755 }, reason: /^setgid bit set/ },
    { name: 'a setgid directory', entry: { name: 'shared/', type: '5', mode: 0o2775 }, reason: /^setgid bit set/ },
  ];
  for (const c of cases) {
    it(`${c.name} → 422, the entry named, nothing run`, async () => {
      const tar = await writeRawTarball(join(fx.root, `setid-${++inputs}.tgz`), [
        manifest(`6.6.${inputs}`),
        { name: 'agent.mjs', content: agentSource },
        c.entry,
        { name: 'after.txt', content: 'an entry after the refused one' },
      ]);
      const res = await push(tar.file, tar.sha256);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.code, 'SWARM_ERR_ARCHIVE_UNSAFE', res.text);
      assert.equal(res.body.entry, c.entry.name);
      assert.match(res.body.reason, c.reason);
      assert.match(res.body.message, new RegExp(c.entry.name));
      assert.equal(res.body.phase, 'extract');
      await assertUntouched();
    });
  }
});

describe('a gzip bomb within every size cap: 422 SWARM_ERR_ARCHIVE_INFLATION_RATIO, stopped at the floor', () => {
  let bomb: { file: string; sha256: string; size: number };

  before(async () => {
    // A valid release, then sixteen 64 MiB files of zeros (each header within the default
    // caps), gzipped as it streams (run-length deflate: ~1 MiB, in about a second).
    const file = join(fx.root, 'bomb.tgz');
    async function* tarStream() {
      yield rawTar([manifest('6.6.100'), { name: 'agent.mjs', content: agentSource }], { eof: false });
      const zeros = Buffer.alloc(MIB);
      for (let i = 0; i < 16; i++) {
        yield tarHeader({ name: `zeros-${i}.bin`, size: 64 * MIB });
        for (let j = 0; j < 64; j++) yield zeros;
      }
      yield Buffer.alloc(1024);
    }
    await pipeline(
      Readable.from(tarStream()),
      createGzip({ level: 9, strategy: constants.Z_RLE }),
      createWriteStream(file),
    );
    const bytes = await readFile(file);
    bomb = { file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    assert.ok(bomb.size < 2 * MIB, `the bomb is ${bomb.size} bytes`);
  });

  it('1 GiB of zeros in a ~1 MiB upload is refused after inflating at most floor + one chunk', async () => {
    const res = await push(bomb.file, bomb.sha256);
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_ARCHIVE_INFLATION_RATIO', res.text);
    assert.equal(res.body.phase, 'extract');
    const { inflatedBytes, compressedBytes, maxInflationRatio, inflationFloorBytes } = res.body;
    assert.equal(maxInflationRatio, 100);
    assert.equal(inflationFloorBytes, FLOOR);
    // Stopped at the first inflater chunk past the floor: not at the total cap, not at the end.
    assert.ok(inflatedBytes > FLOOR && inflatedBytes <= FLOOR + INFLATE_CHUNK, `inflatedBytes ${inflatedBytes}`);
    assert.ok(inflatedBytes > 100 * compressedBytes, `compressedBytes ${compressedBytes}`);
    assert.ok(compressedBytes < bomb.size / 10, `read ${compressedBytes} of ${bomb.size} compressed bytes`);
    await assertUntouched();
  });

  it('with the ratio raised (--extract-max-inflation-ratio) the same bomb inflates on, to the total cap', async () => {
    // The control: the refusal above is the ratio's, and the updater's setting reaches extraction.
    const tolerant = await startTestUpdater(fx, { extractMaxInflationRatio: 100_000, extractMaxTotalBytes: 200 * MIB });
    try {
      const res = await tolerant.pushParts([
        { name: 'sha256', value: bomb.sha256 },
        { name: 'tarball', filename: 'release.tgz', path: bomb.file },
      ]);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.code, 'SWARM_ERR_ARCHIVE_LIMIT', res.text);
      assert.equal(res.body.limit, 'maxTotalBytes');
      // Refused at the header of the fourth file: three (192 MiB, past the floor) were inflated.
      assert.equal(res.body.value, 4 * 64 * MIB + Buffer.byteLength(manifest('6.6.100').content!) + agentSource.length);
      assert.equal(await currentId(tolerant.installDir), null);
      await waitFor('the tolerant updater to be idle', async () => (await tolerant.health()).body.busy === false);
      assert.deepEqual(await releaseDirs(tolerant.installDir), []);
      await assert.rejects(stat(marker), { code: 'ENOENT' });
    } finally {
      await tolerant.close();
    }
  });
});
