import { isBoolean, isObject, isString, nullable, type Check } from './checks.js';
import { isOperationInfo, isOperationReport, type OperationInfo, type OperationReport } from './operation-report.js';
import { isRelease, type Release } from './release.js';
import { isSelfUpdateRecord, type SelfUpdateRecord } from './self-update-record.js';

/** Protocol version of the updater API; bumped on an incompatible change. */
export const PROTOCOL_VERSION = 1;

/** The supervised agent, as the updater sees it. */
export interface AgentStatus {
  /** Null when no agent was started. */
  readonly pid: number | null;
  readonly running: boolean;
  readonly healthy: boolean;
}

/** `GET /health` (wiki/reference/updater-api.md#get-health). */
export interface UpdaterHealth {
  /** `ok`, or `degraded` when a release is active, no operation runs and no agent is running. */
  readonly status: string;
  readonly role: 'updater';
  readonly host: string;
  /** The updater's own version. */
  readonly version: string;
  /** Wire protocol version the updater speaks. */
  readonly protocol: number;
  /** True while an operation is in flight (a mutating request would get 423). */
  readonly busy: boolean;
  readonly operation: OperationInfo | null;
  readonly agent: AgentStatus;
  readonly active: Release | null;
  readonly prev: Release | null;
  /** The release staged to be activated later (`POST /stage`), or null. */
  readonly staged: Release | null;
  readonly lastUpdate: OperationReport | null;
  readonly lastSelfUpdate: SelfUpdateRecord | null;
}

const isAgentStatus: Check<AgentStatus> = (v): v is AgentStatus =>
  isObject(v) && (v.pid === null || Number.isInteger(v.pid)) && isBoolean(v.running) && isBoolean(v.healthy);

/**
 * The health body, with absent `operation`, `staged`, `lastUpdate` and `lastSelfUpdate` read as null
 * (an updater older than them); undefined when malformed. Extra fields are kept, so a newer
 * updater that adds some still parses. `lastSelfUpdate` and `lastUpdate` are checked field by
 * field (the client used to take any object): the master decides a self-update on the record,
 * and every updater release writes these shapes (wiki/decisions/0012-release-dir-and-protocol.md).
 */
export function parseHealth(body: unknown): UpdaterHealth | undefined {
  if (!isObject(body)) return undefined;
  const { operation = null, staged = null, lastUpdate = null, lastSelfUpdate = null } = body;
  const ok =
    isString(body.status) &&
    body.role === 'updater' &&
    isString(body.host) &&
    isString(body.version) &&
    typeof body.protocol === 'number' &&
    isBoolean(body.busy) &&
    nullable(isOperationInfo)(operation) &&
    isAgentStatus(body.agent) &&
    nullable(isRelease)(body.active) &&
    nullable(isRelease)(body.prev) &&
    nullable(isRelease)(staged) &&
    nullable(isOperationReport)(lastUpdate) &&
    nullable(isSelfUpdateRecord)(lastSelfUpdate);
  return ok ? ({ ...body, operation, staged, lastUpdate, lastSelfUpdate } as unknown as UpdaterHealth) : undefined;
}
