// Regression tests for an updater orphaned by a dead supervisor (found by the self-update
// kill table, test/reliability: a supervisor SIGKILLed right after starting an updater left
// that updater running for good — it never saw its IPC channel — and every updater the
// restarted supervisor started then failed with SWARM_ERR_UPDATER_LOCKED).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@swarm/log';
import { findUpdaterProcesses, runSupervisor, stopOrphanedUpdaters } from '../src/index.js';
import { createFakeSelfDir, type FakeSelfDir } from './helpers/fake-self-dir.js';

const SUPERVISOR_MAIN = fileURLToPath(new URL('./fixtures/supervisor-main.ts', import.meta.url));
/** The package directory: `--import tsx` resolves from the working directory. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const silent = createLogger({ name: 'supervisor', level: 'silent' });

/** Each test's own self directory. */
let self: FakeSelfDir;
const selves: FakeSelfDir[] = [];
const spawned: ChildProcess[] = [];

beforeEach(async () => {
  self = await createFakeSelfDir();
  selves.push(self);
});

after(async () => {
  for (const child of spawned) child.kill('SIGKILL');
  for (const s of selves) {
    for (const pid of await findUpdaterProcesses(s.paths)) process.kill(pid, 'SIGKILL');
    await s.cleanup();
  }
});

/** PIDs the fake updaters of this test's self directory wrote, in start order. */
async function started(): Promise<number[]> {
  return (await readFile(self.log, 'utf8')).split('\n').filter(Boolean).map(Number);
}

/** Poll until `check` holds (conditions, never fixed sleeps); fail after `ms`. */
async function until<T>(what: string, check: () => Promise<T | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** True while `pid` exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A process started by the test with `cwd` and `args`, tracked for cleanup. */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, args, { cwd, env, stdio: 'ignore' });
  spawned.push(child);
  return child;
}

describe('updaters left running by a dead supervisor', () => {
  it('a SIGKILLed supervisor’s updater is stopped by the next supervisor before it starts its own', async () => {
    const env = { ...process.env, FAKE_UPDATER_LOG: self.log };
    const first = run(['--import', 'tsx', SUPERVISOR_MAIN, self.paths.root], PACKAGE_DIR, env);
    const [orphan] = await until('the first supervisor to start an updater', async () => {
      const pids = await started();
      return pids.length === 1 && pids;
    });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // The situation under test: the updater outlived its supervisor.
    assert.equal(alive(orphan!), true, 'the fake updater should outlive its supervisor');
    assert.deepEqual(await findUpdaterProcesses(self.paths), [orphan]);

    const stop = new AbortController();
    const second = runSupervisor({
      selfDir: self.paths.root,
      updaterArgs: ['--self-dir', self.paths.root],
      env,
      health: { host: '127.0.0.1', port: 9, caPem: '', certPem: '', keyPem: '' },
      stopGraceMs: 2000,
      log: silent,
      signal: stop.signal,
    });
    try {
      const [, next] = await until('the second supervisor to start its updater', async () => {
        const pids = await started();
        return pids.length === 2 && pids;
      });
      assert.equal(alive(orphan!), false, `the orphaned updater ${orphan} still runs next to ${next}`);
      assert.deepEqual(await findUpdaterProcesses(self.paths), [next], 'exactly one updater runs');
    } finally {
      stop.abort();
      await second;
    }
    assert.deepEqual(await findUpdaterProcesses(self.paths), [], 'a stopped supervisor leaves no updater');
  });

  it('only processes that run from a release with this self directory in their arguments are updaters', async () => {
    const keep = (args: string[]) => run(args, self.releaseDir, { ...process.env, FAKE_UPDATER_LOG: self.log });
    // An operator's shell (or anything else) sitting in a release directory…
    const bystander = keep(['-e', 'setInterval(() => {}, 1000)']);
    // …an updater of another self directory that happens to run from here…
    const foreign = keep(['fake-updater.mjs', '--self-dir', self.root]);
    // …and a real orphan of this one.
    const orphan = keep(['fake-updater.mjs', '--bundle', '/b', '--self-dir', self.paths.root]);
    await until('the three processes to run from the release', async () => {
      const started = await Promise.all(
        [bystander, foreign, orphan].map((c) => readFile(`/proc/${c.pid}/cmdline`, 'utf8').catch(() => '')),
      );
      // Until exec, a child's cmdline is still the test runner's.
      return started.every((argv) => argv.startsWith(process.execPath) && !argv.includes('--test'));
    });

    assert.deepEqual(await findUpdaterProcesses(self.paths), [orphan.pid]);
    assert.deepEqual(await stopOrphanedUpdaters(self.paths, 2000, silent), [orphan.pid]);
    assert.equal(alive(orphan.pid!), false);
    assert.equal(alive(bystander.pid!), true, 'a bystander was signalled');
    assert.equal(alive(foreign.pid!), true, 'another self directory’s updater was signalled');
  });
});
