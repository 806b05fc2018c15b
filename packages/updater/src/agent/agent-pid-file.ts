import { readFile, rm } from 'node:fs/promises';
import { writeFileDurable } from '../lifecycle/durable-file.js';
import type { ProcessIdentity } from '../process/process-identity.js';

/** agent.pid: the supervised agent, named by PID and start time, and the release it runs. */
export interface AgentPidRecord extends ProcessIdentity {
  readonly releaseId: string;
  readonly startedAt: string;
}

export async function writeAgentPid(path: string, record: AgentPidRecord): Promise<void> {
  await writeFileDurable(path, `${JSON.stringify(record)}\n`);
}

/** The recorded agent, or null when there is none or the file is unreadable. */
export async function readAgentPid(path: string): Promise<AgentPidRecord | null> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<AgentPidRecord>;
    if (typeof raw.pid !== 'number' || typeof raw.startTime !== 'string' || typeof raw.releaseId !== 'string')
      return null;
    return { pid: raw.pid, startTime: raw.startTime, releaseId: raw.releaseId, startedAt: String(raw.startedAt ?? '') };
  } catch {
    return null;
  }
}

export async function removeAgentPid(path: string): Promise<void> {
  await rm(path, { force: true });
}
