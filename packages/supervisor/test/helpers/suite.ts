import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, beforeEach } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findUpdaterProcesses } from '../../src/orphaned-updaters.js';
import { createFakeSelfDir, type FakeSelfDir } from './fake-self-dir.js';

/**
 * The set-up the supervisor's process tests share: a fresh fake self directory per test
 * (`self()`), and everything a test started, and every updater of its self directories,
 * killed at the end of the file.
 */
export function fakeSelfDirSuite() {
  let current: FakeSelfDir | undefined;
  const selves: FakeSelfDir[] = [];
  const spawned: ChildProcess[] = [];

  beforeEach(async () => {
    current = await createFakeSelfDir();
    selves.push(current);
  });

  after(async () => {
    for (const child of spawned) child.kill('SIGKILL');
    for (const s of selves) {
      for (const pid of await findUpdaterProcesses(s.paths)) process.kill(pid, 'SIGKILL');
      await s.cleanup();
    }
  });

  const self = (): FakeSelfDir => {
    if (!current) throw new Error('self() is for tests, after beforeEach');
    return current;
  };

  return {
    self,
    /** PIDs the fake updaters of this test's self directory wrote, in start order. */
    async started(): Promise<number[]> {
      return (await readFile(self().log, 'utf8')).split('\n').filter(Boolean).map(Number);
    },
    /** A process started by the test with `cwd` and `args`, killed at the end. */
    spawnNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
      const child = spawn(process.execPath, args, { cwd, env, stdio: 'ignore' });
      spawned.push(child);
      return child;
    },
  };
}

/** Poll until `check` holds (conditions, never fixed sleeps); fail after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** True while `pid` exists and is not a zombie (read from /proc here, not with the code under test). */
export function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
