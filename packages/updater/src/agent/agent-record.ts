import { readFile, rm } from 'node:fs/promises';
import { writeFileDurable, type ProcessIdentity } from '@swarm/release-dir';
import type { InstallLayout } from '../install-dir/install-layout.js';

/**
 * The supervised agent as recorded on disk, in two files:
 * - `agent.pid`: the decimal PID and a newline, as every pid file (`kill -0 "$(cat agent.pid)"`,
 *   systemd `PIDFile=`, monit);
 * - `agent.json`: the identity the updater needs to adopt or stop the agent safely after a
 *   restart — the PID *and* its start time (a PID alone may have been recycled), and the
 *   release it runs.
 *
 * `agent.json` is the source of truth: it is written first and removed last, so a crash
 * between the two writes leaves an agent that is still adopted (its pid file is put right
 * then). An updater from before the split kept the identity in `agent.pid` itself as JSON;
 * such a record is still read, so a self-update adopts the agent the previous updater started.
 */
export interface AgentRecord extends ProcessIdentity {
  readonly releaseId: string;
  readonly startedAt: string;
}

/** Record a newly started agent: agent.json, then agent.pid. */
export async function writeAgentRecord(layout: InstallLayout, record: AgentRecord): Promise<void> {
  await writeFileDurable(layout.agentRecord, `${JSON.stringify(record)}\n`);
  await writeFileDurable(layout.agentPid, `${record.pid}\n`);
}

/**
 * The recorded agent, or null when there is none or the record is unreadable. A legacy
 * JSON agent.pid (no agent.json) is read as the record; it is left as it is, so that an
 * older updater started again by a failed self-update still adopts its agent.
 */
export async function readAgentRecord(layout: InstallLayout): Promise<AgentRecord | null> {
  return (await readRecordFile(layout.agentRecord)) ?? (await readRecordFile(layout.agentPid));
}

/**
 * Make agent.pid name the adopted agent when it does not (a crash between the two writes of
 * {@link writeAgentRecord}). A legacy JSON agent.pid is left alone (see {@link readAgentRecord}).
 */
export async function repairAgentPid(layout: InstallLayout, record: AgentRecord): Promise<void> {
  if ((await readRecordFile(layout.agentRecord)) === null) return;
  const text = await readFile(layout.agentPid, 'utf8').catch(() => null);
  if (text !== `${record.pid}\n`) await writeFileDurable(layout.agentPid, `${record.pid}\n`);
}

/** Forget the agent: agent.pid first, agent.json last. */
export async function removeAgentRecord(layout: InstallLayout): Promise<void> {
  await rm(layout.agentPid, { force: true });
  await rm(layout.agentRecord, { force: true });
}

async function readRecordFile(path: string): Promise<AgentRecord | null> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<AgentRecord> | null;
    if (
      raw === null ||
      typeof raw !== 'object' ||
      typeof raw.pid !== 'number' ||
      typeof raw.startTime !== 'string' ||
      typeof raw.releaseId !== 'string'
    )
      return null;
    return { pid: raw.pid, startTime: raw.startTime, releaseId: raw.releaseId, startedAt: String(raw.startedAt ?? '') };
  } catch {
    return null;
  }
}
