import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processIdentity, type ProcessIdentity } from '@swarm/release-dir';

/**
 * Send `signal` to the whole process group led by `leader` (children are spawned with
 * `detached: true`, so their PGID is their PID). Returns false when the group is gone.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

const KILL_WAIT_MS = 5000;

/** Options of {@link stopProcessGroup}. */
export interface StopGroupOptions {
  /** Grace between SIGTERM and SIGKILL. */
  readonly timeoutMs: number;
  /** Resolves when the leader has exited; defaults to polling `/proc`. */
  readonly exited?: Promise<unknown>;
  /** How often to poll `/proc` when `exited` is not given. */
  readonly pollMs?: number;
}

/**
 * Stop a process group: SIGTERM to the group, SIGKILL to the group after `timeoutMs` if its
 * leader is still alive. The leader is checked by PID *and* start time first, so a recycled
 * PID is never signalled. Once the leader is gone, stragglers of the group are killed too:
 * they would otherwise keep the agent's port or files busy for the next start.
 */
export async function stopProcessGroup(
  leader: ProcessIdentity,
  options: StopGroupOptions,
): Promise<'exited' | 'killed' | 'absent'> {
  if (!(await isAlive(leader))) {
    await killStragglers(leader.pid);
    return 'absent';
  }
  const exited = options.exited ?? waitUntilDead(leader, options.pollMs ?? 50);
  signalGroup(leader.pid, 'SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(options.timeoutMs).then(() => false)]);
  if (graceful) {
    await killStragglers(leader.pid);
    return 'exited';
  }
  signalGroup(leader.pid, 'SIGKILL');
  // SIGKILL cannot be caught; only a process stuck in the kernel outlives it, and then
  // waiting longer would not help either.
  await Promise.race([exited, sleep(KILL_WAIT_MS)]);
  return 'killed';
}

/**
 * Kill what is left of group `pgid` after its leader died. Linux never hands out a PID that is
 * still in use as a process-group id, so while members of our group remain, no unrelated
 * process can lead a group of that id. Once the group is empty the PID may be recycled: if a
 * live process holds that PID now, it is not ours and nothing is signalled.
 */
export async function killStragglers(pgid: number): Promise<void> {
  if ((await processIdentity(pgid)) === null) signalGroup(pgid, 'SIGKILL');
}

/** Resolves once the process is gone (polls `/proc`; used for processes that are not our children). */
export async function waitUntilDead(identity: ProcessIdentity, pollMs = 50, signal?: AbortSignal): Promise<void> {
  while (await isAlive(identity)) {
    await sleep(pollMs, undefined, signal ? { signal } : undefined);
  }
}
