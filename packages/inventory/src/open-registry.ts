import { deleteHost, insertHost, selectHost, selectHosts, type HostRecord, type NewHost } from './hosts.js';
import { openConnection } from './connection.js';
import { migrate } from './migrations.js';
import {
  insertOperation,
  markFinished,
  selectOperations,
  upsertHostResult,
  type HostResult,
  type ListOperationsOptions,
  type NewOperation,
  type Operation,
  type OperationStatus,
} from './operations.js';
import { guard } from './sqlite-errors.js';

/** How long a command waits for another one's write lock by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** Options of {@link openRegistry}. */
export interface OpenRegistryOptions {
  /**
   * Create the file when it does not exist (default true). With false, a missing file is
   * SWARM_ERR_REGISTRY_INVALID — for callers that expect an initialized master home.
   */
  readonly create?: boolean;
  /**
   * How long to wait for another process's lock before failing with
   * SWARM_ERR_REGISTRY_BUSY (default {@link DEFAULT_BUSY_TIMEOUT_MS}).
   */
  readonly busyTimeoutMs?: number;
}

/**
 * The host registry: enrolled hosts with their pins, and the history of operations.
 * Every write is one transaction that takes the write lock up front, so concurrent swarm
 * commands queue behind each other instead of failing or interleaving.
 */
export interface Registry {
  /** Absolute path of the database file. */
  readonly path: string;
  /** Record a host; SWARM_ERR_HOST_EXISTS when the name is taken. */
  addHost(host: NewHost): HostRecord;
  getHost(name: string): HostRecord | null;
  /** Every host, ordered by name. */
  listHosts(): HostRecord[];
  /** Remove a host and its pins; returns what was removed, or null when it was not enrolled. */
  removeHost(name: string): HostRecord | null;
  /** Open a `running` operation and return its id. */
  startOperation(op: NewOperation): number;
  /** Record (or update) the outcome on one host of an operation. */
  recordHostResult(operationId: number, result: HostResult): void;
  /** Close an operation; false when it was unknown or already closed. */
  finishOperation(operationId: number, status: Exclude<OperationStatus, 'running'>): boolean;
  /** Operations newest first, each with its per-host rows. */
  listOperations(options?: ListOperationsOptions): Operation[];
  close(): void;
}

/**
 * Open (creating and migrating as needed) the registry at `path`. WAL lets readers run
 * beside a writer; `busy_timeout` makes a second writer wait for the first rather than fail.
 */
export function openRegistry(path: string, options: OpenRegistryOptions = {}): Registry {
  const c = openConnection(path, {
    create: options.create ?? true,
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
  const { db } = c;
  try {
    guard(path, () => {
      // exec(), not pragma(): pragma() prepares a throwaway statement (connection.ts).
      db.exec('PRAGMA journal_mode = WAL');
      // FULL: a committed enrollment survives a power cut; the writes are few and small.
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA foreign_keys = ON');
      migrate(c);
    });
  } catch (err) {
    db.close();
    throw err;
  }

  // Writes take the lock at BEGIN (IMMEDIATE): a deferred transaction that reads first
  // and then writes can fail with SQLITE_BUSY at once, without honouring busy_timeout.
  const write = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => guard(path, () => tx.immediate(...args));
  };
  const read = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => guard(path, () => tx.deferred(...args));
  };

  return {
    path,
    addHost: write((host: NewHost) => insertHost(c, host)),
    getHost: read((name: string) => selectHost(c, name)),
    listHosts: read(() => selectHosts(c)),
    removeHost: write((name: string) => deleteHost(c, name)),
    startOperation: write((op: NewOperation) => insertOperation(c, op)),
    recordHostResult: write((id: number, result: HostResult) => upsertHostResult(c, id, result)),
    finishOperation: write((id: number, status: Exclude<OperationStatus, 'running'>) => markFinished(c, id, status)),
    listOperations: read((opts: ListOperationsOptions = {}) => selectOperations(c, opts)),
    close: () => {
      if (db.open) guard(path, () => db.close());
    },
  };
}
