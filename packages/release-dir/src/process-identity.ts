import { readFile } from 'node:fs/promises';

/**
 * A process named by its PID *and* its start time (field 22 of `/proc/<pid>/stat`, in clock
 * ticks since boot). PIDs are recycled; the pair is not, so a PID file or lock that records
 * both can never make us signal or respect an unrelated process that later got the same PID.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
}

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

async function readStat(pid: number): Promise<ProcStat | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may itself contain spaces or ')': split after the
  // last ')'. What follows starts at field 3 (state); start time is field 22.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = rest[22 - 3];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}

/** The identity of a live process, or null when there is none (or only a zombie) with that PID. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | null> {
  const stat = await readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return null;
  return { pid, startTime: stat.startTime };
}

/** True while a process with this PID exists and has not exited (a zombie has). */
export async function isRunning(pid: number): Promise<boolean> {
  return (await processIdentity(pid)) !== null;
}

/** True when the process that `identity` names is still alive (same PID, same start time). */
export async function isAlive(identity: ProcessIdentity): Promise<boolean> {
  const now = await processIdentity(identity.pid);
  return now !== null && now.startTime === identity.startTime;
}
