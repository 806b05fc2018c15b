import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openRegistry } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/migrations.js';

describe('registry schema and opening', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-registry-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A second, raw connection to look underneath the registry. Like the registry's own
   * (src/connection.ts), it and its statements are never left to the garbage collector:
   * Node 24 aborts when it collects a better-sqlite3 object at the wrong moment.
   */
  const keep: object[] = [];
  const raw = (path: string) => {
    const db = new Database(path);
    keep.push(db);
    return db;
  };
  const query = (db: Database.Database, sql: string): unknown[] => {
    const statement = db.prepare(sql);
    keep.push(statement);
    return statement.all();
  };
  const userVersion = (db: Database.Database) =>
    (query(db, 'PRAGMA user_version')[0] as { user_version: number }).user_version;

  it('migrates a new file to the latest version, once, and records each step', () => {
    const path = join(dir, 'new.db');
    openRegistry(path).close();
    openRegistry(path).close();
    const db = raw(path);
    try {
      assert.equal(userVersion(db), SCHEMA_VERSION);
      assert.deepEqual(query(db, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      const steps = query(db, 'SELECT version FROM schema_migrations ORDER BY version') as { version: number }[];
      assert.deepEqual(
        steps.map((s) => s.version),
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
    } finally {
      db.close();
    }
  });

  it('migrates an existing version-0 database and leaves its other tables alone', () => {
    const path = join(dir, 'v0.db');
    const db = raw(path);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept')");
    db.close();
    const registry = openRegistry(path);
    assert.deepEqual(registry.listHosts(), []);
    registry.close();
    const after = raw(path);
    try {
      assert.equal(userVersion(after), SCHEMA_VERSION);
      assert.deepEqual(query(after, 'SELECT text FROM notes'), [{ text: 'kept' }]);
    } finally {
      after.close();
    }
  });

  it('rolls a failing migration back whole: the version and tables stay as they were', () => {
    const path = join(dir, 'clash.db');
    const db = raw(path);
    // A table that migration 1 wants to create makes its step fail half way through.
    db.exec('CREATE TABLE operations (x INTEGER)');
    db.close();
    assert.throws(() => openRegistry(path), { code: 'SWARM_ERR_REGISTRY_INVALID', message: /version 1/ });
    const after = raw(path);
    try {
      assert.equal(userVersion(after), 0);
      const tables = (query(after, "SELECT name FROM sqlite_master WHERE type = 'table'") as { name: string }[]).map(
        (t) => t.name,
      );
      assert.deepEqual(tables, ['operations']);
    } finally {
      after.close();
    }
  });

  it('refuses a database written by a newer swarm with SWARM_ERR_REGISTRY_SCHEMA', () => {
    const path = join(dir, 'future.db');
    openRegistry(path).close();
    const db = raw(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openRegistry(path), { code: 'SWARM_ERR_REGISTRY_SCHEMA', exitCode: 2 });
  });

  it('refuses a file that is not a database with SWARM_ERR_REGISTRY_INVALID', async () => {
    const path = join(dir, 'garbage.db');
    await writeFile(path, 'this is not sqlite, just text long enough to have a header '.repeat(100));
    assert.throws(() => openRegistry(path), { code: 'SWARM_ERR_REGISTRY_INVALID' });
  });

  it('with create: false, refuses a missing file and creates nothing', () => {
    const path = join(dir, 'missing.db');
    assert.throws(() => openRegistry(path, { create: false }), { code: 'SWARM_ERR_REGISTRY_INVALID' });
    assert.equal(existsSync(path), false);
  });

  it('waits for a lock up to busy_timeout, then fails with SWARM_ERR_REGISTRY_BUSY', () => {
    const path = join(dir, 'busy.db');
    openRegistry(path).close();
    const holder = raw(path);
    holder.exec('BEGIN IMMEDIATE');
    const registry = openRegistry(path, { busyTimeoutMs: 50 });
    try {
      // Reads still work beside a writer (WAL)...
      assert.deepEqual(registry.listHosts(), []);
      // ...but a write cannot get the lock while the other command holds it.
      assert.throws(
        () =>
          registry.addHost({
            name: 'web-1',
            address: 'web-1',
            updaterPort: 8766,
            agentPort: 8765,
            updaterFingerprint: null,
            agentFingerprint: '0'.repeat(64),
          }),
        { code: 'SWARM_ERR_REGISTRY_BUSY', exitCode: 1 },
      );
      holder.exec('COMMIT');
      registry.addHost({
        name: 'web-1',
        address: 'web-1',
        updaterPort: 8766,
        agentPort: 8765,
        updaterFingerprint: null,
        agentFingerprint: '0'.repeat(64),
      });
      assert.equal(registry.listHosts().length, 1);
    } finally {
      registry.close();
      holder.close();
    }
  });
});
