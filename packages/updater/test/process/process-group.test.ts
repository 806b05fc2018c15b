import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { stopProcessGroup } from '../../src/process/process-group.js';
import { isAlive, processIdentity } from '@swarm/release-dir';

function spawnGroup(script: string) {
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { child, ready };
}

describe('process groups', () => {
  it('stops a whole group with SIGTERM, and SIGKILLs one that ignores it after the grace', async () => {
    // The leader ignores SIGTERM and has a child in its group that ignores it too.
    const { child, ready } = spawnGroup(`
      process.on('SIGTERM', () => {});
      const c = require('child_process').spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
      console.log(c.pid);
      setInterval(() => {}, 1000);
    `);
    await ready;
    const leader = (await processIdentity(child.pid!))!;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const how = await stopProcessGroup(leader, { timeoutMs: 200, exited });
    assert.equal(how, 'killed');
    assert.equal(await isAlive(leader), false);
    assert.throws(() => process.kill(-leader.pid, 0), /ESRCH/, 'no member of the group survives');
  });

  it('never signals a recycled PID: a group leader with the same PID but another start time is left alone', async () => {
    // What a recycled PID looks like: a live process leading its own group, started later than the record says.
    const { child, ready } = spawnGroup('console.log("up"); setInterval(() => {}, 1000)');
    await ready;
    const now = (await processIdentity(child.pid!))!;
    try {
      const how = await stopProcessGroup(
        { pid: now.pid, startTime: String(Number(now.startTime) - 1) },
        { timeoutMs: 10 },
      );
      assert.equal(how, 'absent');
      assert.equal(await isAlive(now), true, 'the unrelated process was not signalled');
    } finally {
      process.kill(-now.pid, 'SIGKILL');
    }
  });
});
