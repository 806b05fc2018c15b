// Issue 12 item 3: an updater that exits 2 refused to start (its configuration, or another
// live updater owns the install directory — wiki/reference/guarantees.md#one-operation-at-a-time) and restarting it cannot help, so
// the supervisor must not restart it but end with its error; while an install lock held by an
// updater a previous supervisor of this self directory left running is only transient.
// Real supervisor, real updater processes (the fake updater of helpers/fake-self-dir.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSwarmError, type SwarmError } from '@swarm/errors';
import { createLogger } from '@swarm/log';
import { runSupervisor } from '../src/index.js';
import { findUpdaterProcesses } from '../src/orphaned-updaters.js';
import type { FakeSelfDir } from './helpers/fake-self-dir.js';
import { alive, fakeSelfDirSuite, until } from './helpers/suite.js';

const silent = createLogger({ name: 'supervisor', level: 'silent' });
/** The bound for a refusal; the fake updater takes well under a second. */
const REFUSAL_MS = 10_000;

const { self: selfOfTest, started, spawnNode } = fakeSelfDirSuite();
/** Each test's own self directory. */
let self: FakeSelfDir;
beforeEach(() => {
  self = selfOfTest();
});

function supervise(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  return runSupervisor({
    selfDir: self.paths.root,
    updaterArgs: ['--self-dir', self.paths.root],
    env: { ...process.env, FAKE_UPDATER_LOG: self.log, ...env },
    health: { host: '127.0.0.1', port: 9, caPem: '', certPem: '', keyPem: '' },
    stopGraceMs: 2000,
    log: silent,
    ...(signal ? { signal } : {}),
  });
}

/** The error `running` rejects with, and how long it took; fails if it keeps running. */
async function refusal(running: Promise<void>): Promise<{ error: SwarmError; ms: number }> {
  const t0 = Date.now();
  const outcome = await Promise.race([
    running.then(
      () => new Error('the supervisor returned instead of refusing'),
      (err: unknown) => err,
    ),
    sleep(REFUSAL_MS * 2).then(() => new Error(`the supervisor still runs after ${REFUSAL_MS * 2} ms`)),
  ]);
  assert.ok(isSwarmError(outcome), String(outcome));
  return { error: outcome, ms: Date.now() - t0 };
}

describe('an updater that refuses to start (exit 2) is not restarted', () => {
  it('exit 2 with no report (an older updater release): SWARM_ERR_CONFIG_INVALID, exit 2, started once', async () => {
    const { error, ms } = await refusal(supervise({ FAKE_UPDATER_EXIT: '2' }));
    assert.equal(error.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.equal(error.exitCode, 2);
    const pids = await started();
    assert.equal(pids.length, 1, `the updater was started ${pids.length} times`);
    assert.match(error.message, new RegExp(`PID ${pids[0]}\\b.*exit status 2`));
    assert.ok(ms < REFUSAL_MS, `refused after ${ms} ms`);
    await assert.rejects(readFile(self.paths.lock), { code: 'ENOENT' }, 'the supervisor lock is released');
  });

  it("exit 2 with the updater's report: the supervisor ends with the updater's own error", async () => {
    const report = {
      code: 'SWARM_ERR_CONFIG_INVALID',
      message: 'invalid configuration: --keep must be ≥ 1',
      key: 'keep',
    };
    const { error, ms } = await refusal(
      supervise({ FAKE_UPDATER_EXIT: '2', FAKE_UPDATER_REPORT: JSON.stringify(report) }),
    );
    assert.equal(error.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.equal(error.message, report.message);
    assert.equal(error.exitCode, 2);
    assert.equal(error.details.key, 'keep');
    assert.equal((await started()).length, 1);
    assert.ok(ms < REFUSAL_MS, `refused after ${ms} ms`);
  });

  it('a crash (exit 1) is still restarted', async () => {
    const stop = new AbortController();
    const running = supervise({ FAKE_UPDATER_EXIT: '1' }, stop.signal);
    try {
      await until('a second start after the crash', async () => (await started()).length >= 2);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('the install directory owned by a live process that is not ours: SWARM_ERR_UPDATER_LOCKED naming it', async () => {
    const lock = join(self.root, 'updater.lock');
    // A second updater, unsupervised or of another self directory: it runs from elsewhere.
    const other = spawnNode(
      ['-e', `require('fs').writeFileSync(${JSON.stringify(lock)}, String(process.pid)); setInterval(() => {}, 1000)`],
      self.root,
    );
    await until(
      'the other updater to own the lock',
      async () => (await readFile(lock, 'utf8').catch(() => '')) === String(other.pid),
    );

    const { error, ms } = await refusal(supervise({ FAKE_UPDATER_LOCK: lock }));
    assert.equal(error.code, 'SWARM_ERR_UPDATER_LOCKED');
    assert.equal(error.exitCode, 2);
    assert.match(error.message, new RegExp(`PID ${other.pid}\\b`));
    assert.equal(error.details.pid, other.pid);
    assert.equal((await started()).length, 1, 'the refused updater was restarted');
    assert.ok(ms < REFUSAL_MS, `refused after ${ms} ms`);
    assert.equal(alive(other.pid!), true, 'the owner was signalled');
    assert.equal(await readFile(lock, 'utf8'), String(other.pid), 'the lock changed hands');
  });

  it('the lock held by an updater a previous supervisor of this self directory left running: it is stopped, ours starts', async () => {
    const lock = join(self.root, 'updater.lock');
    const env = { FAKE_UPDATER_LOCK: lock };
    const stop = new AbortController();
    const running = supervise(env, stop.signal);
    try {
      const [first] = await until('the first updater to take the lock', async () => {
        const pids = await started();
        return pids.length === 1 && (await readFile(lock, 'utf8').catch(() => '')) === String(pids[0]) && pids;
      });
      // An orphan of an earlier supervisor of this self directory, which the start-up sweep
      // could not see (it was not running yet), takes the lock; then our updater crashes.
      const orphan = spawnNode(['fake-updater.mjs', '--self-dir', self.paths.root], self.releaseDir, {
        ...process.env,
        FAKE_UPDATER_LOG: join(self.root, 'orphan.log'),
        FAKE_UPDATER_LOCK: lock,
        FAKE_UPDATER_FORCE_LOCK: '1',
      });
      await until('the orphan to take the lock', async () => (await readFile(lock, 'utf8')) === String(orphan.pid));
      process.kill(first!, 'SIGKILL');

      // The restarted updater finds the orphan's lock (exit 2, LOCKED naming it): the
      // supervisor stops the orphan and starts its updater again, which takes the lock.
      const [, refused, next] = await until('the updater started after the orphan was stopped', async () => {
        const pids = await started();
        return pids.length >= 3 && pids;
      });
      assert.equal(alive(orphan.pid!), false, 'the orphan still runs');
      assert.notEqual(refused, next);
      await until('the new updater to own the lock', async () => (await readFile(lock, 'utf8')) === String(next));
      assert.deepEqual(await findUpdaterProcesses(self.paths), [next], 'exactly one updater runs');
    } finally {
      stop.abort();
      await running;
    }
  });
});
