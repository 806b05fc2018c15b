import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openRegistry, type Registry } from '../src/index.js';
import { defaultActor } from '../src/operations.js';

const release = { name: 'web', version: '1.4.2', sha256: 'f'.repeat(64) };

describe('operation history', () => {
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

  it('records an operation, its per-host outcomes and its end', () => {
    const id = registry.startOperation({ kind: 'update', release, options: { canary: 1, concurrency: 4 } });
    registry.recordHostResult(id, { host: 'web-1', outcome: 'skipped' });
    // A host's row is updated in place as the rollout moves on.
    registry.recordHostResult(id, {
      host: 'web-1',
      outcome: 'updated',
      releaseId: '1.4.2-ffffffffffff',
      durationMs: 812.4,
    });
    registry.recordHostResult(id, {
      host: 'web-2',
      outcome: 'rolled_back',
      durationMs: 3000,
      error: { code: 'SWARM_ERR_RELEASE_PROBE_FAILED', message: 'probe failed' },
    });
    assert.equal(registry.listOperations()[0]?.status, 'running');
    assert.equal(registry.finishOperation(id, 'failed'), true);
    assert.equal(registry.finishOperation(id, 'succeeded'), false, 'a finished operation stays finished');

    const [op] = registry.listOperations();
    assert.ok(op);
    assert.equal(op.id, id);
    assert.equal(op.kind, 'update');
    assert.equal(op.actor, defaultActor());
    assert.deepEqual(op.release, release);
    assert.deepEqual(op.options, { canary: 1, concurrency: 4 });
    assert.equal(op.status, 'failed');
    assert.ok(op.finishedAt && op.finishedAt >= op.startedAt);
    assert.deepEqual(
      op.hosts.map(({ updatedAt: _, ...rest }) => rest),
      [
        { host: 'web-1', outcome: 'updated', releaseId: '1.4.2-ffffffffffff', durationMs: 812, error: null },
        {
          host: 'web-2',
          outcome: 'rolled_back',
          releaseId: null,
          durationMs: 3000,
          error: { code: 'SWARM_ERR_RELEASE_PROBE_FAILED', message: 'probe failed' },
        },
      ],
    );
  });

  it('lists newest first, filters by host and honours the limit', () => {
    const rollback = registry.startOperation({ kind: 'rollback', actor: 'ops@ci' });
    registry.recordHostResult(rollback, { host: 'web-2', outcome: 'rolled_back' });
    registry.finishOperation(rollback, 'succeeded');
    const self = registry.startOperation({ kind: 'update-self', release });
    registry.recordHostResult(self, { host: 'web-3', outcome: 'updated' });
    registry.finishOperation(self, 'interrupted');

    assert.deepEqual(
      registry.listOperations().map((o) => o.kind),
      ['update-self', 'rollback', 'update'],
    );
    assert.deepEqual(
      registry.listOperations({ limit: 1 }).map((o) => o.id),
      [self],
    );
    const forWeb2 = registry.listOperations({ host: 'web-2' });
    assert.deepEqual(
      forWeb2.map((o) => [o.kind, o.hosts.map((h) => h.host)]),
      [
        ['rollback', ['web-2']],
        ['update', ['web-2']],
      ],
    );
    assert.equal(forWeb2[0]?.release, null);
    assert.equal(forWeb2[0]?.actor, 'ops@ci');
    assert.deepEqual(registry.listOperations({ host: 'nobody' }), []);
  });

  it('keeps history of a host after it is removed', () => {
    registry.addHost({
      name: 'web-2',
      address: 'web-2.internal',
      updaterPort: 8766,
      agentPort: 8765,
      updaterFingerprint: null,
      agentFingerprint: 'c'.repeat(64),
    });
    assert.ok(registry.removeHost('web-2'));
    assert.equal(registry.listOperations({ host: 'web-2' }).length, 2);
  });

  it('refuses a result for an unknown operation', () => {
    assert.throws(() => registry.recordHostResult(9999, { host: 'web-1', outcome: 'updated' }), /FOREIGN KEY/);
  });
});
