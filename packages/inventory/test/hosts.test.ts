import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openRegistry, type NewHost, type Registry } from '../src/index.js';
import { REGISTRY_FILE_MODE } from '../src/connection.js';

const pin = (c: string) => c.repeat(64);
const web1: NewHost = {
  name: 'web-1',
  address: '10.0.0.5',
  updaterPort: 8766,
  agentPort: 8765,
  updaterFingerprint: pin('a'),
  agentFingerprint: pin('b'),
};

describe('hosts', () => {
  let dir: string;
  let registry: Registry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-registry-'));
    registry = openRegistry(join(dir, 'registry.db'));
  });
  after(async () => {
    registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the database file 0600', async () => {
    assert.equal((await stat(registry.path)).mode & 0o777, REGISTRY_FILE_MODE);
  });

  it('adds, gets and lists hosts in name order', () => {
    const added = registry.addHost(web1);
    assert.match(added.enrolledAt, /^\d{4}-\d\d-\d\dT/);
    registry.addHost({
      ...web1,
      name: 'db-1',
      updaterFingerprint: null,
      agentFingerprint: pin('c'),
      enrolledAt: '2026-01-01T00:00:00.000Z',
    });
    assert.deepEqual(registry.getHost('web-1'), added);
    assert.equal(registry.getHost('nope'), null);
    assert.deepEqual(
      registry.listHosts().map((h) => [h.name, h.updaterFingerprint]),
      [
        ['db-1', null],
        ['web-1', pin('a')],
      ],
    );
    assert.equal(registry.getHost('db-1')?.enrolledAt, '2026-01-01T00:00:00.000Z');
  });

  it('refuses a duplicate name with SWARM_ERR_HOST_EXISTS and keeps the first', () => {
    assert.throws(() => registry.addHost({ ...web1, address: 'other' }), { code: 'SWARM_ERR_HOST_EXISTS' });
    assert.equal(registry.getHost('web-1')?.address, '10.0.0.5');
  });

  it('refuses a pin that is not 64 lowercase hex digits (schema CHECK)', () => {
    assert.throws(
      () => registry.addHost({ ...web1, name: 'bad-pin', agentFingerprint: 'AB'.repeat(32) }),
      /CHECK constraint/,
    );
    assert.throws(() => registry.addHost({ ...web1, name: 'bad-pin', updaterFingerprint: 'ab' }), /CHECK constraint/);
    assert.equal(registry.getHost('bad-pin'), null);
  });

  it('removes a host with its pins and says whether it existed', () => {
    const removed = registry.removeHost('web-1');
    assert.equal(removed?.agentFingerprint, pin('b'));
    assert.equal(registry.getHost('web-1'), null);
    assert.equal(registry.removeHost('web-1'), null);
  });

  it('sees writes of another connection to the same file', () => {
    const other = openRegistry(registry.path);
    try {
      other.addHost({ ...web1, name: 'web-2' });
      assert.equal(registry.getHost('web-2')?.address, '10.0.0.5');
    } finally {
      other.close();
    }
  });
});
