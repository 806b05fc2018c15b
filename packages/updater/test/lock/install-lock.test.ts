import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '@swarm/errors';
import { acquireInstallLock, LOCK_FILE } from '../../src/lock/install-lock.js';
import { processIdentity } from '@swarm/release-dir';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarm-lock-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('acquireInstallLock', () => {
  it('records the owner (PID, start time, reason); a second acquisition is refused with UPDATER_LOCKED naming it; release frees it', async () => {
    const dir = await mkdtemp(join(root, 'a-'));
    const lock = await acquireInstallLock(dir, 'swarm updater for h1');
    const written = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    assert.equal(written.pid, process.pid);
    assert.equal(written.startTime, (await processIdentity(process.pid))!.startTime);
    assert.equal(written.reason, 'swarm updater for h1');
    await assert.rejects(acquireInstallLock(dir, 'again'), (err: unknown) => {
      assert.ok(hasCode(err, 'SWARM_ERR_UPDATER_LOCKED'));
      assert.match((err as Error).message, new RegExp(`PID ${process.pid}`));
      assert.match((err as Error).message, /swarm updater for h1/);
      return true;
    });
    await lock.release();
    const again = await acquireInstallLock(dir, 'again');
    await again.release();
  });

  it('takes over a lock whose owner is dead', async () => {
    const dir = await mkdtemp(join(root, 'b-'));
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.once('exit', resolve));
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: child.pid, startTime: '1', reason: 'old', acquiredAt: '' }),
    );
    const lock = await acquireInstallLock(dir, 'new');
    assert.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).reason, 'new');
    await lock.release();
  });

  it('takes over a lock whose PID was recycled (alive, but another start time)', async () => {
    const dir = await mkdtemp(join(root, 'c-'));
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.pid, startTime: 'not-this-one', reason: 'old', acquiredAt: '' }),
    );
    const lock = await acquireInstallLock(dir, 'new');
    await lock.release();
  });

  it('release() leaves a lock that is not ours alone', async () => {
    const dir = await mkdtemp(join(root, 'd-'));
    const lock = await acquireInstallLock(dir, 'mine');
    await writeFile(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: 1, startTime: 'x', reason: 'someone else', acquiredAt: '' }),
    );
    await lock.release();
    assert.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).reason, 'someone else');
  });
});
