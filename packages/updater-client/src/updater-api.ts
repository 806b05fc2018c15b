/**
 * The updater's answers (wiki/reference/updater-api.md), and the checks that turn an unexpected body into
 * SWARM_ERR_CLIENT_BAD_RESPONSE instead of a crash somewhere in the rollout engine. The
 * checks cover what the master relies on; extra fields are kept, so a newer updater that
 * adds some still works.
 */

/** A release, wherever one appears (`active`, `prev`, `release`). */
export interface Release {
  /** `<version>-<sha256[0:12]>`, also the release's directory name on the worker. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** SHA-256 of the release tarball. */
  readonly sha256: string;
  /** When the release was installed on the host (ISO 8601). */
  readonly installedAt: string;
}

/** A release a host retains (`GET /releases`). */
export interface RetainedRelease extends Release {
  readonly slot: 'active' | 'prev' | null;
}

/** The supervised agent, as the updater sees it. */
export interface AgentStatus {
  readonly pid: number | null;
  readonly running: boolean;
  readonly healthy: boolean;
}

/** A report of a past operation (`lastUpdate`, `lastSelfUpdate`); its fields are the updater's. */
export type OperationReport = Readonly<Record<string, unknown>>;

/** `GET /health`. */
export interface UpdaterHealth {
  readonly status: string;
  readonly role: 'updater';
  readonly host: string;
  /** The updater's own version. */
  readonly version: string;
  /** Wire protocol version the updater speaks. */
  readonly protocol: number;
  /** True while an operation is in flight (a mutating request would get 423). */
  readonly busy: boolean;
  readonly agent: AgentStatus;
  readonly active: Release | null;
  readonly prev: Release | null;
  readonly lastUpdate: OperationReport | null;
  readonly lastSelfUpdate: OperationReport | null;
}

/** `GET /releases`. */
export interface ReleaseList {
  readonly releases: readonly RetainedRelease[];
}

/**
 * The body of a successful `POST /update` (200), `POST /update-self` (202) or
 * `POST /rollback` (200). The client checks that it is an object and that the releases it
 * names are well formed; the rest is passed through.
 */
export interface OperationResult {
  readonly active?: Release | null;
  readonly prev?: Release | null;
  readonly release?: Release | null;
  readonly [key: string]: unknown;
}

type Check<T> = (value: unknown) => value is T;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (v: unknown): v is T | null =>
    v === null || check(v);

export const isRelease: Check<Release> = (v): v is Release =>
  isObject(v) && isString(v.id) && isString(v.name) && isString(v.version) && isString(v.sha256) && isString(v.installedAt);

function isAgentStatus(v: unknown): v is AgentStatus {
  return isObject(v) && (v.pid === null || Number.isInteger(v.pid)) && isBoolean(v.running) && isBoolean(v.healthy);
}

/** The health body, with absent reports normalized to null; undefined when malformed. */
export function parseHealth(body: unknown): UpdaterHealth | undefined {
  if (!isObject(body)) return undefined;
  const { lastUpdate = null, lastSelfUpdate = null } = body;
  const ok =
    isString(body.status) &&
    body.role === 'updater' &&
    isString(body.host) &&
    isString(body.version) &&
    typeof body.protocol === 'number' &&
    isBoolean(body.busy) &&
    isAgentStatus(body.agent) &&
    nullable(isRelease)(body.active) &&
    nullable(isRelease)(body.prev) &&
    nullable(isObject)(lastUpdate) &&
    nullable(isObject)(lastSelfUpdate);
  return ok ? ({ ...body, lastUpdate, lastSelfUpdate } as unknown as UpdaterHealth) : undefined;
}

const SLOTS: readonly unknown[] = [null, 'active', 'prev'];
const isRetainedRelease: Check<RetainedRelease> = (v): v is RetainedRelease =>
  isRelease(v) && SLOTS.includes((v as unknown as Record<string, unknown>).slot);

/** The releases body; undefined when malformed. */
export function parseReleaseList(body: unknown): ReleaseList | undefined {
  if (!isObject(body) || !Array.isArray(body.releases)) return undefined;
  return body.releases.every(isRetainedRelease) ? (body as unknown as ReleaseList) : undefined;
}

/** An operation's result body; undefined when malformed. */
export function parseOperationResult(body: unknown): OperationResult | undefined {
  if (!isObject(body)) return undefined;
  for (const key of ['active', 'prev', 'release'] as const) {
    if (body[key] !== undefined && !nullable(isRelease)(body[key])) return undefined;
  }
  return body as OperationResult;
}
