import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { swarmError } from '@swarm/errors';

/** Mode of `registry.db` (and, by SQLite's own rule, of its `-wal` and `-shm` files). */
export const REGISTRY_FILE_MODE = 0o600;

/**
 * Every better-sqlite3 object this process creates stays reachable until it exits.
 *
 * Addons built against Node >= 24.19 headers abort the process (`CHECK (env) != nullptr`
 * in `node::RemoveEnvironmentCleanupHook`) when V8 garbage-collects one of their
 * ObjectWraps from a task that runs outside any JS context — here a better-sqlite3 12
 * Statement or Database. It is timing-dependent and was seen in CI on Node 24.21.
 * better-sqlite3 13 avoids it but drops Node 20 (wiki/reference/platform-facts.md). So statements are prepared
 * once per connection and nothing is ever left to the collector; a closed connection
 * costs a few kilobytes until exit, and the swarm CLI opens one or two per command.
 */
const KEEP_ALIVE: object[] = [];

/** One open SQLite connection with a statement cache. */
export interface Connection {
  readonly db: Database.Database;
  readonly path: string;
  /** The prepared statement for `sql`, prepared once per connection. */
  prepare(sql: string): Database.Statement;
  /** Read one value (`PRAGMA user_version`, …) through a cached statement. */
  value<T>(sql: string, ...params: unknown[]): T | undefined;
}

/** Options of {@link openConnection}. */
export interface ConnectionOptions {
  readonly create: boolean;
  readonly busyTimeoutMs: number;
}

export function openConnection(path: string, options: ConnectionOptions): Connection {
  if (options.create) createPrivateFile(path);
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: !options.create, timeout: options.busyTimeoutMs });
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_REGISTRY_INVALID',
      `cannot open the host registry ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  KEEP_ALIVE.push(db);
  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
      KEEP_ALIVE.push(statement);
    }
    return statement;
  };
  return {
    db,
    path,
    prepare,
    value: <T>(sql: string, ...params: unknown[]) => {
      const statement = prepare(sql);
      // pluck() toggles a mode on the cached statement; set it on every read.
      return statement.pluck(true).get(...params) as T | undefined;
    },
  };
}

/** Create the database file 0600 before SQLite does (SQLite would follow the umask: 0644). */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', REGISTRY_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw swarmError(
      'SWARM_ERR_REGISTRY_INVALID',
      `cannot create the host registry ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}
