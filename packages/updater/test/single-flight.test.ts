import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import {
  currentId,
  killSeenAgents,
  pidAlive,
  readJournal,
  releaseDirs,
  startTestUpdater,
  waitFor,
  type TestUpdater,
} from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
let slow: PackResult;
let stuck: PackResult;
let stuckPidFile: string;
const updaters: TestUpdater[] = [];
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  stuckPidFile = join(fx.root, 'stuck-install.pid');
  [v1, v2, slow, stuck] = await Promise.all([
    buildRelease(root, { version: '1.0.0' }),
    buildRelease(root, { version: '2.0.0' }),
    // An install that takes a while, so that the test can act while it runs.
    buildRelease(root, { version: '3.0.0-slow', install: ['node', '-e', 'setTimeout(() => {}, 2500)'] }),
    buildRelease(root, {
      version: '4.0.0-stuck',
      install: [
        'node',
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(stuckPidFile)}, String(process.pid)); setTimeout(() => {}, 60000)`,
      ],
    }),
  ]);
});

after(async () => {
  for (const u of updaters) await u.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

async function updater(extra: Record<string, unknown> = {}) {
  const u = await startTestUpdater(fx, extra);
  updaters.push(u);
  return u;
}

async function inPhase(u: TestUpdater, phase: string) {
  await waitFor(`phase ${phase}`, async () => (await u.health()).body.operation?.phase === phase);
}

describe('one operation at a time', () => {
  it('two concurrent pushes → exactly one proceeds, the other gets 423 UPDATER_BUSY with Retry-After; /health answers within 1 s throughout', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const first = u.push(slow);
    await inPhase(u, 'install');

    const second = await u.push(v2);
    assert.equal(second.status, 423, second.text);
    assert.equal(second.body.code, 'SWARM_ERR_UPDATER_BUSY');
    assert.equal(second.body.operation.kind, 'update');
    assert.equal(second.body.operation.phase, 'install');
    assert.ok(Number(second.headers['retry-after']) > 0, 'Retry-After is set');
    const rollback = await u.call('/rollback', { method: 'POST' });
    assert.equal(rollback.status, 423, 'a rollback is refused as well');

    // The slow install runs in a child process and extraction in a worker: the event loop is free.
    for (let i = 0; i < 5; i += 1) {
      const t0 = performance.now();
      const health = await u.health();
      const ms = performance.now() - t0;
      assert.equal(health.status, 200);
      assert.equal(health.body.busy, true);
      assert.ok(ms < 1000, `GET /health took ${Math.round(ms)} ms during an update`);
    }

    const done = await first;
    assert.equal(done.status, 200, done.text);
    assert.equal(await currentId(u.installDir), idOf(slow));
    assert.equal((await u.health()).body.busy, false);
    assert.equal((await u.push(v2)).status, 200, 'once idle, the next push proceeds');
  });
});

describe('early answers', () => {
  it('while busy, every push of a multi-megabyte body gets its 423 intact (lingering close, RFC 9112 §9.6: no EPIPE)', async () => {
    const u = await updater();
    const big = await buildRelease(join(fx.root, 'releases-big'), {
      version: '5.0.0-big',
      files: { 'blob.txt': randomBytes(1_500_000).toString('base64') },
    });
    const pending = u.push(stuck);
    await inPhase(u, 'install');
    const statuses: (number | string)[] = [];
    for (let i = 0; i < 10; i += 1) {
      // `call` rejects on any socket error: a reset that ate the answer would show here.
      statuses.push(
        await u.push(big).then(
          (r) => r.status,
          (err: Error) => err.message,
        ),
      );
    }
    assert.deepEqual(statuses, Array(10).fill(423));
    await u.close();
    assert.equal((await pending).status, 503);
  });
});

describe('graceful shutdown', () => {
  it('stopping the updater mid-install aborts the update and undoes it: 503 SHUTTING_DOWN, install killed, v1 untouched, agent left running', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const agent = (await u.health()).body.agent.pid as number;
    await rm(stuckPidFile, { force: true });
    const pending = u.push(stuck);
    await inPhase(u, 'install');
    const installPid = Number(
      await waitFor('the install command', () => readFile(stuckPidFile, 'utf8').catch(() => '')),
    );
    await u.close();
    const res = await pending;
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_UPDATER_SHUTTING_DOWN');
    assert.equal(res.body.phase, 'install');
    assert.equal(await pidAlive(installPid), false, 'the install command was killed');
    assert.equal(await currentId(u.installDir), idOf(v1));
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)]);
    const journal = await readJournal(u.installDir);
    assert.equal(journal.inFlight, null);
    assert.equal(journal.history.at(-1).error.code, 'SWARM_ERR_UPDATER_SHUTTING_DOWN');
    assert.equal(await pidAlive(agent), true, 'the agent keeps running for the next updater');
    await assert.rejects(readFile(join(u.installDir, 'updater.lock')), /ENOENT/, 'the lock is released');
  });
});
