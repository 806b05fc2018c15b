// Issue 12 item 3, end to end: a second `swarm updater` on an install directory that a live
// updater owns refuses to start (wiki/reference/guarantees.md#one-operation-at-a-time) — it exits non-zero within seconds, naming the
// owner's PID, instead of a supervisor restarting a LOCKED updater forever — and the first
// keeps serving. Real CLI processes, a real fleet (mTLS certificates from `swarm enroll`).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Fleet, freePort, swarmBin } from './helpers/fleet.js';
import { childrenOf } from './helpers/processes.js';

/** The bound. */
const REFUSAL_MS = 10_000;

describe('a second `swarm updater` on an owned install directory (issue 12)', () => {
  let fleet: Fleet;

  before(async () => {
    fleet = await Fleet.create({ name: 'second', hosts: ['w1'] });
  });
  after(async () => {
    await fleet?.close();
  });

  /** `<install-dir>/updater.lock`'s owner PID (packages/updater/src/lock/install-lock.ts). */
  const lockOwner = async () =>
    (JSON.parse(await readFile(join(fleet.host('w1').installDir, 'updater.lock'), 'utf8')) as { pid: number }).pid;

  /** Run `swarm updater …flags` on w1's bundle and install directory; it must refuse in time. */
  const secondUpdater = async (flags: readonly string[]) => {
    const w1 = fleet.host('w1');
    const t0 = Date.now();
    const second = fleet.spawn(
      process.execPath,
      [swarmBin, 'updater', '--bundle', w1.bundle, '--install-dir', w1.installDir, ...flags],
      { env: fleet.childEnv({ SWARM_LOG_LEVEL: 'info' }) },
    );
    const timer = setTimeout(() => second.child.kill('SIGKILL'), REFUSAL_MS * 3);
    const result = await second.done;
    clearTimeout(timer);
    return { ...result, ms: Date.now() - t0 };
  };

  /** The first updater is untouched: same process, still the owner, still answering. */
  const firstStillServes = async (updater: number) => {
    assert.equal(await fleet.updaterPid('w1'), updater, "the first host's updater was restarted");
    assert.equal(await lockOwner(), updater);
    assert.equal((await fleet.health('w1')).status, 'ok');
  };

  it('with its own self directory: its supervisor exits 2 within 10 s, naming the owner, and starts its updater once', async () => {
    const updater = await fleet.updaterPid('w1');
    assert.equal(await lockOwner(), updater, 'the lock names the first updater');

    const res = await secondUpdater([
      '--self-dir', join(fleet.root, 'w1-second', 'self'),
      '--listen', `127.0.0.1:${await freePort()}`,
    ]); // prettier-ignore
    assert.equal(res.code, 2, `exit ${res.code ?? res.signal} after ${res.ms} ms:\n${res.stderr}`);
    assert.ok(res.ms < REFUSAL_MS, `refused after ${res.ms} ms`);
    // The CLI's error line, from the supervisor, names the owner as the lock file does.
    assert.match(res.stderr, new RegExp(`^error SWARM_ERR_UPDATER_LOCKED: .*PID ${updater}\\b`, 'm'), res.stderr);
    assert.match(res.stderr, /^hint: Stop the other process/m);
    const starts = res.stderr.split('\n').filter((line) => line.includes('"msg":"updater started"'));
    assert.equal(starts.length, 1, `its updater was started ${starts.length} times:\n${res.stderr}`);
    assert.equal(res.stderr.includes('"msg":"updater exited; restarting it"'), false, res.stderr);
    await firstStillServes(updater);
  });

  it('with the same self directory: refused by the supervisor lock, naming the first supervisor', async () => {
    const updater = await fleet.updaterPid('w1');
    const w1 = fleet.host('w1');
    const res = await secondUpdater(['--self-dir', w1.selfDir, '--listen', `127.0.0.1:${await freePort()}`]);
    assert.equal(res.code, 2, `exit ${res.code ?? res.signal}:\n${res.stderr}`);
    assert.ok(res.ms < REFUSAL_MS, `refused after ${res.ms} ms`);
    assert.match(res.stderr, new RegExp(`^error SWARM_ERR_UPDATER_LOCKED: .*pid ${w1.supervisor!.pid}\\b`, 'm'));
    await firstStillServes(updater);
  });

  it('without a self directory (the updater in the CLI process): exits 2, naming the owner', async () => {
    const updater = await fleet.updaterPid('w1');
    const res = await secondUpdater(['--listen', `127.0.0.1:${await freePort()}`]);
    assert.equal(res.code, 2, `exit ${res.code ?? res.signal}:\n${res.stderr}`);
    assert.ok(res.ms < REFUSAL_MS, `refused after ${res.ms} ms`);
    assert.match(res.stderr, new RegExp(`^error SWARM_ERR_UPDATER_LOCKED: .*PID ${updater}\\b`, 'm'));
    await firstStillServes(updater);
    assert.deepEqual(await childrenOf(fleet.host('w1').supervisor!.pid!), [updater]);
  });
});
