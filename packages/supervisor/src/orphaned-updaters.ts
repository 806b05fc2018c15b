import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Logger } from '@swarm/log';
import { isRunning } from '@swarm/release-dir';
import type { SelfDirPaths } from './self-dir.js';

/**
 * The updater processes of this self directory that are running now, whoever started them:
 * every live process whose working directory is a release of `<self-dir>/releases/` and whose
 * arguments name this self directory (`--self-dir DIR`, which every supervisor passes). Both
 * must hold, so an operator's shell sitting in a release directory is never taken for one.
 * Reads /proc (Linux, where the supervisor runs under systemd); elsewhere it finds nothing.
 */
export async function findUpdaterProcesses(paths: SelfDirPaths): Promise<number[]> {
  const releases = await realpath(paths.releases).catch(() => resolve(paths.releases));
  const root = await realpath(paths.root).catch(() => resolve(paths.root));
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      // A release pruned under a running process reads as "<path> (deleted)".
      const cwd = (await readlink(`/proc/${name}/cwd`)).replace(/ \(deleted\)$/, '');
      if (!cwd.startsWith(releases + sep)) continue;
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
      const i = argv.indexOf('--self-dir');
      const dir = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--self-dir='))?.slice('--self-dir='.length);
      if (dir === undefined || (await realpath(resolve(cwd, dir)).catch(() => null)) !== root) continue;
      if (await isRunning(Number(name))) found.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found.sort((a, b) => a - b);
}

/**
 * Stop the updaters a previous supervisor left running, before this one starts its own.
 *
 * WHY: a supervisor that dies (`kill -9`, OOM) takes no updater with it. Its updater is meant
 * to exit when the IPC channel closes, but one started a moment before its supervisor died
 * never sees the channel at all (`process.connected` is already false when its code runs) and
 * serves on, holding the install directory's lock and the port: every updater the restarted
 * supervisor starts would then fail with SWARM_ERR_UPDATER_LOCKED, with growing backoff, and
 * the orphan — maybe the new updater of an interrupted switch, which recovery has just
 * undone — could never be updated again. So: SIGTERM (a graceful stop undoes any operation in
 * flight), SIGKILL after `graceMs`, and wait until they are gone. An updater killed at any
 * point is recovered by the next one (its journal), so this is always safe.
 */
export async function stopOrphanedUpdaters(paths: SelfDirPaths, graceMs: number, log: Logger): Promise<number[]> {
  const orphans = await findUpdaterProcesses(paths);
  if (orphans.length === 0) return [];
  log.warn({ pids: orphans }, 'stopping updaters left running by a previous supervisor');
  signal(orphans, 'SIGTERM');
  if (!(await allGone(orphans, graceMs))) {
    signal(orphans, 'SIGKILL');
    await allGone(orphans, 5_000);
  }
  return orphans;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
}

async function allGone(pids: readonly number[], withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = [];
    for (const pid of pids) if (await isRunning(pid)) left.push(pid);
    if (left.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
