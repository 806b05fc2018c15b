import { swarmError } from '@swarm/errors';
import type { Connection } from './connection.js';

/** An enrolled host and the pins of its certificates. Field names are wiki/reference/cli.md's JSON. */
export interface HostRecord {
  /** Host name (wiki/reference/updater-api.md#transport-and-identity pattern); the primary key. */
  readonly name: string;
  /** DNS name or IP address the master connects to. */
  readonly address: string;
  readonly updaterPort: number;
  readonly agentPort: number;
  /** Pin of the updater certificate; null when enrolled without `--updater` (no pin, no push). */
  readonly updaterFingerprint: string | null;
  /** Pin of the agent certificate. */
  readonly agentFingerprint: string;
  /** ISO 8601 time of enrollment. */
  readonly enrolledAt: string;
}

/** What {@link addHost} needs; `enrolledAt` defaults to now. */
export type NewHost = Omit<HostRecord, 'enrolledAt'> & { readonly enrolledAt?: string };

interface HostRow {
  name: string;
  address: string;
  updater_port: number;
  agent_port: number;
  updater_fingerprint: string | null;
  agent_fingerprint: string;
  enrolled_at: string;
}

const COLUMNS = 'name, address, updater_port, agent_port, updater_fingerprint, agent_fingerprint, enrolled_at';

function toRecord(row: HostRow): HostRecord {
  return {
    name: row.name,
    address: row.address,
    updaterPort: row.updater_port,
    agentPort: row.agent_port,
    updaterFingerprint: row.updater_fingerprint,
    agentFingerprint: row.agent_fingerprint,
    enrolledAt: row.enrolled_at,
  };
}

/** Insert a host; SWARM_ERR_HOST_EXISTS when the name is taken (checked by the primary key). */
export function insertHost(c: Connection, host: NewHost): HostRecord {
  const record: HostRecord = { ...host, enrolledAt: host.enrolledAt ?? new Date().toISOString() };
  try {
    c.prepare(
      `INSERT INTO hosts (${COLUMNS}) VALUES (@name, @address, @updaterPort, @agentPort, @updaterFingerprint, @agentFingerprint, @enrolledAt)`,
    ).run(record);
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw swarmError('SWARM_ERR_HOST_EXISTS', `host "${host.name}" is already enrolled`, { host: host.name });
    }
    throw err;
  }
  return record;
}

export function selectHost(c: Connection, name: string): HostRecord | null {
  const row = c.prepare(`SELECT ${COLUMNS} FROM hosts WHERE name = ?`).get(name) as HostRow | undefined;
  return row ? toRecord(row) : null;
}

/** Every host, ordered by name. */
export function selectHosts(c: Connection): HostRecord[] {
  return (c.prepare(`SELECT ${COLUMNS} FROM hosts ORDER BY name`).all() as HostRow[]).map(toRecord);
}

/** Delete a host and its pins; returns the removed record, or null when there was none. */
export function deleteHost(c: Connection, name: string): HostRecord | null {
  const row = c.prepare(`DELETE FROM hosts WHERE name = ? RETURNING ${COLUMNS}`).get(name) as HostRow | undefined;
  return row ? toRecord(row) : null;
}
