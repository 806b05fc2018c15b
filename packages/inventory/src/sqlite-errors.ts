import { isSwarmError, swarmError } from '@swarm/errors';

/**
 * SQLite result codes that mean "another connection holds the lock". better-sqlite3 only
 * reports them once `busy_timeout` has run out, so by then waiting longer is the caller's
 * call: we surface SWARM_ERR_REGISTRY_BUSY rather than a raw SqliteError.
 */
const BUSY_CODES = /^SQLITE_(BUSY|LOCKED)/;

/** Codes that mean the file is not a usable database (or not ours to open). */
const UNUSABLE_CODES = /^SQLITE_(NOTADB|CORRUPT|CANTOPEN|READONLY|PERM|IOERR|FULL|AUTH)/;

/**
 * Translate an error thrown by better-sqlite3 into a catalogue error. Swarm errors pass
 * through unchanged; anything unrecognized is rethrown as is (a programming error).
 */
export function translateSqliteError(err: unknown, path: string): unknown {
  if (isSwarmError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  const reason = (err as Error).message;
  if (BUSY_CODES.test(code)) {
    return swarmError(
      'SWARM_ERR_REGISTRY_BUSY',
      `the host registry ${path} stayed locked by another swarm command (${reason})`,
      { path, sqliteCode: code },
      { cause: err },
    );
  }
  if (UNUSABLE_CODES.test(code)) {
    return swarmError(
      'SWARM_ERR_REGISTRY_INVALID',
      `cannot use the host registry ${path}: ${reason}`,
      { path, sqliteCode: code },
      { cause: err },
    );
  }
  return err;
}

/** Run `fn`, translating SQLite errors for `path`. */
export function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translateSqliteError(err, path);
  }
}
