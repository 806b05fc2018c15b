import { swarmError } from '@swarm/errors';
import type { Connection } from './connection.js';

/** One schema step. Applied once, in order, inside the same transaction as its bookkeeping. */
export interface Migration {
  /** 1, 2, 3…: the `user_version` the database has once this step is applied. */
  readonly version: number;
  /** Short description, recorded in `schema_migrations`. */
  readonly name: string;
  readonly sql: string;
}

/**
 * The registry schema, as a list of steps. Never edit a step that has shipped: append a new
 * one. `PRAGMA user_version` is the authoritative version (readable without any table);
 * `schema_migrations` keeps the history for people.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'hosts, pins and operation history',
    sql: `
      CREATE TABLE schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TEXT NOT NULL
      );

      -- One row per enrolled host, with the pins of its certificates (wiki/reference/updater-api.md#transport-and-identity).
      -- updater_fingerprint is NULL for a host enrolled without --updater: no pin, no push.
      CREATE TABLE hosts (
        name                TEXT PRIMARY KEY,
        address             TEXT NOT NULL,
        updater_port        INTEGER NOT NULL CHECK (updater_port BETWEEN 1 AND 65535),
        agent_port          INTEGER NOT NULL CHECK (agent_port BETWEEN 1 AND 65535),
        updater_fingerprint TEXT CHECK (length(updater_fingerprint) = 64 AND updater_fingerprint NOT GLOB '*[^0-9a-f]*'),
        agent_fingerprint   TEXT NOT NULL CHECK (length(agent_fingerprint) = 64 AND agent_fingerprint NOT GLOB '*[^0-9a-f]*'),
        enrolled_at         TEXT NOT NULL
      ) STRICT;

      -- One row per rollout, rollback or self-update started from this master.
      CREATE TABLE operations (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL,
        actor           TEXT NOT NULL,
        release_name    TEXT,
        release_version TEXT,
        release_sha256  TEXT,
        options         TEXT NOT NULL DEFAULT '{}',
        started_at      TEXT NOT NULL,
        finished_at     TEXT,
        status          TEXT NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))
      ) STRICT;
      CREATE INDEX operations_started_at ON operations (started_at);

      -- The outcome on each host. No foreign key to hosts: history outlives decommission.
      CREATE TABLE operation_hosts (
        operation_id  INTEGER NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
        host          TEXT NOT NULL,
        outcome       TEXT NOT NULL,
        release_id    TEXT,
        duration_ms   INTEGER,
        error_code    TEXT,
        error_message TEXT,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (operation_id, host)
      ) STRICT;
      CREATE INDEX operation_hosts_host ON operation_hosts (host, operation_id);
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Bring `db` up to {@link SCHEMA_VERSION}. Safe against concurrent openers: the version is
 * re-read under the write lock (BEGIN IMMEDIATE), so each step runs exactly once, and a
 * failing step rolls back with its bookkeeping. Refuses a database newer than this code.
 */
export function migrate(c: Connection, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const current = (): number => c.value<number>('PRAGMA user_version') ?? 0;
  const check = (version: number): void => {
    if (version > latest) {
      throw swarmError(
        'SWARM_ERR_REGISTRY_SCHEMA',
        `the host registry ${c.path} has schema version ${version}; this swarm knows up to ${latest}`,
        { path: c.path, version, supported: latest },
      );
    }
  };
  const seen = current();
  check(seen);
  if (seen === latest) return;

  c.db
    .transaction(() => {
      const version = current();
      check(version);
      for (const step of migrations) {
        if (step.version <= version) continue;
        try {
          c.db.exec(step.sql);
        } catch (err) {
          throw swarmError(
            'SWARM_ERR_REGISTRY_INVALID',
            `migrating the host registry ${c.path} to version ${step.version} (${step.name}) failed: ${(err as Error).message}`,
            { path: c.path, version: step.version },
            { cause: err },
          );
        }
        c.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          step.version,
          step.name,
          new Date().toISOString(),
        );
        // user_version cannot be a bound parameter; the value is our own integer. exec()
        // rather than pragma(): no throwaway statement (connection.ts).
        c.db.exec(`PRAGMA user_version = ${Math.trunc(step.version)}`);
      }
    })
    .immediate();
}
