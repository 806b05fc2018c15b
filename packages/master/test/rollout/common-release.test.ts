import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostResult } from '../../src/rollout/outcome.js';
import { commonRelease, rolloutRelease } from '../../src/rollout/rollout.js';

const v1 = { id: '1.0.0-aaaaaaaaaaaa', name: 'agent', version: '1.0.0', sha256: 'a'.repeat(64) };
const v2 = { id: '2.0.0-bbbbbbbbbbbb', name: 'agent', version: '2.0.0', sha256: 'b'.repeat(64) };

function result(host: string, release: typeof v1 | null, installedAt = '2026-12-07T00:00:00.000Z'): HostResult {
  return {
    host,
    outcome: release ? 'rolled_back' : 'failed',
    release: release && { ...release, installedAt },
    durationMs: 1,
    error: null,
  };
}

describe('the top-level release of a rollout (wiki/reference/updater-api.md, cli.md)', () => {
  it('update: the pushed release as a release object, its id computed, installedAt null', () => {
    assert.deepEqual(rolloutRelease({ name: 'agent', version: '1.0.0', sha256: 'a'.repeat(64) }), {
      ...v1,
      installedAt: null,
    });
  });

  it('rollback: the one release every answering host went back to, without a host install time', () => {
    assert.deepEqual(commonRelease([result('h1', v1), result('h2', v1, '2026-12-06T00:00:00.000Z')]), {
      ...v1,
      installedAt: null,
    });
    assert.deepEqual(commonRelease([result('h1', v1), result('h2', null)]), { ...v1, installedAt: null });
  });

  it('rollback: null when hosts went back to different releases, or none did', () => {
    assert.equal(commonRelease([result('h1', v1), result('h2', v2)]), null);
    assert.equal(commonRelease([result('h1', null)]), null);
    assert.equal(commonRelease([]), null);
  });
});
