import { hostname, userInfo } from 'node:os';
import type { Connection } from './connection.js';

/** What an operation does to its hosts. */
export type OperationKind = 'update' | 'rollback' | 'update-self' | 'stage' | 'activate';

/** Lifecycle of an operation: `running` until finished, `interrupted` when cut short (Ctrl-C). */
export type OperationStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** Outcome on one host; the values of wiki/reference/cli.md (`swarm update --json`). */
export type HostOutcome = 'updated' | 'up_to_date' | 'rolled_back' | 'failed' | 'skipped' | 'staged';

/** The release an operation pushes. */
export interface ReleaseRef {
  readonly name: string;
  readonly version: string;
  /** Lowercase hex SHA-256 of the tarball. */
  readonly sha256: string;
}

/** An error as the history keeps it: the catalogue code and the message. */
export interface RecordedError {
  readonly code: string;
  readonly message: string;
}

/** Options of {@link insertOperation} (`Registry.startOperation`). */
export interface NewOperation {
  readonly kind: OperationKind;
  /** Who started it (default: `<os user>@<machine>`). */
  readonly actor?: string;
  /** The release pushed; null for a rollback, which has none of its own. */
  readonly release?: ReleaseRef | null;
  /** The options the operation ran with (concurrency, canary…), kept as JSON. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** ISO 8601 start time (default: now). */
  readonly startedAt?: string;
}

/** Options of `Registry.recordHostResult`: the latest outcome on one host. */
export interface HostResult {
  readonly host: string;
  readonly outcome: HostOutcome;
  /** The release id active on the host afterwards (`<version>-<sha256[0:12]>`), if known. */
  readonly releaseId?: string | null;
  readonly durationMs?: number | null;
  readonly error?: RecordedError | null;
}

/** One host's row of an operation. */
export interface OperationHost {
  readonly host: string;
  readonly outcome: HostOutcome;
  readonly releaseId: string | null;
  readonly durationMs: number | null;
  readonly error: RecordedError | null;
  readonly updatedAt: string;
}

/** An operation with its per-host rows. */
export interface Operation {
  readonly id: number;
  readonly kind: OperationKind;
  readonly actor: string;
  readonly release: ReleaseRef | null;
  readonly options: Record<string, unknown>;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly status: OperationStatus;
  readonly hosts: OperationHost[];
}

/** Options of `Registry.listOperations`. */
export interface ListOperationsOptions {
  /** Only operations that touched this host, each with only this host's row. */
  readonly host?: string;
  /** At most this many, newest first (default 50). */
  readonly limit?: number;
}

/** `<os user>@<machine>`, the default actor of an operation. */
export function defaultActor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (e.g. a container running under an arbitrary uid).
    user = process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? 'unknown');
  }
  return `${user}@${hostname()}`;
}

export function insertOperation(c: Connection, op: NewOperation): number {
  const result = c
    .prepare(
      `INSERT INTO operations (kind, actor, release_name, release_version, release_sha256, options, started_at, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running')`,
    )
    .run(
      op.kind,
      op.actor ?? defaultActor(),
      op.release?.name ?? null,
      op.release?.version ?? null,
      op.release?.sha256 ?? null,
      JSON.stringify(op.options ?? {}),
      op.startedAt ?? new Date().toISOString(),
    );
  return Number(result.lastInsertRowid);
}

/** Insert or replace the row of one host: hosts move through outcomes as a rollout runs. */
export function upsertHostResult(c: Connection, operationId: number, result: HostResult): void {
  c.prepare(
    `INSERT INTO operation_hosts (operation_id, host, outcome, release_id, duration_ms, error_code, error_message, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (operation_id, host) DO UPDATE SET
       outcome = excluded.outcome, release_id = excluded.release_id, duration_ms = excluded.duration_ms,
       error_code = excluded.error_code, error_message = excluded.error_message, updated_at = excluded.updated_at`,
  ).run(
    operationId,
    result.host,
    result.outcome,
    result.releaseId ?? null,
    result.durationMs === undefined || result.durationMs === null ? null : Math.round(result.durationMs),
    result.error?.code ?? null,
    result.error?.message ?? null,
    new Date().toISOString(),
  );
}

/** Mark an operation finished; false when it was unknown or already finished. */
export function markFinished(c: Connection, operationId: number, status: Exclude<OperationStatus, 'running'>): boolean {
  const result = c
    .prepare(`UPDATE operations SET status = ?, finished_at = ? WHERE id = ? AND finished_at IS NULL`)
    .run(status, new Date().toISOString(), operationId);
  return result.changes === 1;
}

interface OperationRow {
  id: number;
  kind: string;
  actor: string;
  release_name: string | null;
  release_version: string | null;
  release_sha256: string | null;
  options: string;
  started_at: string;
  finished_at: string | null;
  status: string;
}

interface OperationHostRow {
  operation_id: number;
  host: string;
  outcome: string;
  release_id: string | null;
  duration_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  updated_at: string;
}

/** Newest first. Call inside a transaction so operations and their rows are one snapshot. */
export function selectOperations(c: Connection, options: ListOperationsOptions = {}): Operation[] {
  const limit = Math.max(1, Math.trunc(options.limit ?? 50));
  const host = options.host;
  const ops = (
    host === undefined
      ? c.prepare('SELECT * FROM operations ORDER BY id DESC LIMIT ?').all(limit)
      : c
          .prepare(
            `SELECT o.* FROM operations o
             WHERE EXISTS (SELECT 1 FROM operation_hosts h WHERE h.operation_id = o.id AND h.host = ?)
                -- A target with no outcome yet (an interrupted rollout never reached it) still
                -- belongs to the operation: the rollout engine lists its targets in options.hosts.
                OR EXISTS (SELECT 1 FROM json_each(o.options, '$.hosts') t WHERE t.value = ?)
             ORDER BY o.id DESC LIMIT ?`,
          )
          .all(host, host, limit)
  ) as OperationRow[];
  if (ops.length === 0) return [];

  // One fixed query for the rows of the id range (statements are prepared once, see
  // connection.ts), filtered to the listed operations here.
  const ids = new Set(ops.map((o) => o.id));
  const oldest = ops[ops.length - 1]!.id;
  const newest = ops[0]!.id;
  const rows = (
    host === undefined
      ? c.prepare('SELECT * FROM operation_hosts WHERE operation_id BETWEEN ? AND ? ORDER BY host').all(oldest, newest)
      : c
          .prepare('SELECT * FROM operation_hosts WHERE operation_id BETWEEN ? AND ? AND host = ? ORDER BY host')
          .all(oldest, newest, host)
  ) as OperationHostRow[];

  const byOperation = new Map<number, OperationHost[]>();
  for (const row of rows) {
    if (!ids.has(row.operation_id)) continue;
    const list = byOperation.get(row.operation_id) ?? [];
    list.push({
      host: row.host,
      outcome: row.outcome as HostOutcome,
      releaseId: row.release_id,
      durationMs: row.duration_ms,
      error: row.error_code !== null ? { code: row.error_code, message: row.error_message ?? '' } : null,
      updatedAt: row.updated_at,
    });
    byOperation.set(row.operation_id, list);
  }

  return ops.map((o) => ({
    id: o.id,
    kind: o.kind as OperationKind,
    actor: o.actor,
    release:
      o.release_name !== null && o.release_version !== null && o.release_sha256 !== null
        ? { name: o.release_name, version: o.release_version, sha256: o.release_sha256 }
        : null,
    options: JSON.parse(o.options) as Record<string, unknown>,
    startedAt: o.started_at,
    finishedAt: o.finished_at,
    status: o.status as OperationStatus,
    hosts: byOperation.get(o.id) ?? [],
  }));
}
