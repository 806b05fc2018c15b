import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SELF_UPDATE_RECORD_ENV,
  decodeSelfUpdateRecord,
  encodeSelfUpdateRecord,
  isSelfUpdateRecordMessage,
  isSelfUpdateRequest,
  isStartFailureReport,
  parseHealth,
  parseActivateRequest,
  parseDiscardAnswer,
  parseOperationResult,
  parseReleaseList,
  parseStageAnswer,
  selfUpdateRecordMessage,
  selfUpdateRequest,
  startFailureReport,
  type SelfUpdateRecord,
} from '../src/index.js';

const release = {
  id: '1.0.0-0123456789ab',
  name: 'app',
  version: '1.0.0',
  sha256: 'a'.repeat(64),
  installedAt: '2026-12-07T00:00:00.000Z',
};
const record: SelfUpdateRecord = {
  outcome: 'succeeded',
  attempt: 'op-1',
  from: null,
  to: '0.2.0-0123456789ab',
  version: '0.2.0',
  startedAt: '2026-12-07T00:00:00.000Z',
  finishedAt: '2026-12-07T00:00:01.000Z',
};
const health = {
  status: 'ok',
  role: 'updater',
  host: 'w1',
  version: '0.1.0',
  protocol: 1,
  busy: false,
  operation: null,
  agent: { pid: 42, running: true, healthy: true },
  active: release,
  prev: null,
  lastUpdate: {
    id: 'op-0',
    kind: 'update',
    release,
    outcome: 'updated',
    phase: 'commit',
    error: null,
    startedAt: release.installedAt,
    finishedAt: release.installedAt,
  },
  lastSelfUpdate: record,
};

describe('GET /health', () => {
  it('parses a full body, keeping fields it does not know', () => {
    const parsed = parseHealth({ ...health, future: 1 });
    assert.ok(parsed);
    assert.equal(parsed.lastSelfUpdate?.attempt, 'op-1');
    assert.equal((parsed as unknown as { future: number }).future, 1);
  });

  it('reads an older updater’s absent operation and reports as null', () => {
    const { operation: _o, lastUpdate: _u, lastSelfUpdate: _s, ...old } = health;
    const parsed = parseHealth(old);
    assert.ok(parsed);
    assert.equal(parsed.operation, null);
    assert.equal(parsed.lastUpdate, null);
    assert.equal(parsed.lastSelfUpdate, null);
  });

  it('accepts a newer updater’s unknown operation kind and outcome', () => {
    const lastUpdate = { ...health.lastUpdate, kind: 'stage', outcome: 'staged' };
    assert.ok(
      parseHealth({ ...health, lastUpdate, operation: { id: 'x', kind: 'activate', phase: 'gate', startedAt: 't' } }),
    );
  });

  it('accepts the record an updater that gave up on its supervisor writes', () => {
    const gaveUp = { outcome: 'failed', attempt: 'op-2', reason: 'no switch', finishedAt: record.finishedAt };
    assert.ok(parseHealth({ ...health, lastSelfUpdate: gaveUp }));
  });

  for (const [what, body] of [
    ['not an object', []],
    ['another role', { ...health, role: 'agent' }],
    ['a pid that is not an integer', { ...health, agent: { ...health.agent, pid: '42' } }],
    ['a malformed active release', { ...health, active: { ...release, sha256: 1 } }],
    ['a self-update record with an unknown outcome', { ...health, lastSelfUpdate: { ...record, outcome: 'maybe' } }],
    ['a self-update record without finishedAt', { ...health, lastSelfUpdate: { outcome: 'failed' } }],
    ['a lastUpdate without an id', { ...health, lastUpdate: { ...health.lastUpdate, id: undefined } }],
    ['an operation without a phase', { ...health, operation: { id: 'x', kind: 'update', startedAt: 't' } }],
  ] as const) {
    it(`refuses ${what}`, () => assert.equal(parseHealth(body), undefined));
  }
});

describe('GET /releases and operation results', () => {
  it('parses the release list and refuses an unknown slot', () => {
    assert.ok(
      parseReleaseList({
        releases: [
          { ...release, slot: 'active' },
          { ...release, slot: null },
        ],
      }),
    );
    assert.equal(parseReleaseList({ releases: [{ ...release, slot: 'next' }] }), undefined);
    assert.equal(parseReleaseList({ releases: {} }), undefined);
  });

  it('parses an operation result and refuses a malformed release in it', () => {
    assert.ok(parseOperationResult({ operation: 'op', active: release, prev: null, release }));
    assert.equal(parseOperationResult({ active: { id: 'x' } }), undefined);
    assert.equal(parseOperationResult('ok'), undefined);
  });
});

describe('stage, activate and discard', () => {
  it('reads the staged release in /health, and a staged slot in /releases', () => {
    assert.equal(parseHealth({ ...health, staged: release })?.staged?.id, release.id);
    assert.equal(parseHealth(health)?.staged, null, 'an updater older than staging has none');
    assert.equal(parseHealth({ ...health, staged: { id: 1 } }), undefined);
    assert.ok(parseReleaseList({ releases: [{ ...release, slot: 'staged' }] }));
  });

  it('parses the answers of /stage and DELETE /staged', () => {
    assert.ok(parseStageAnswer({ staged: release }));
    assert.ok(parseStageAnswer({ staged: null, unchanged: true }));
    assert.equal(parseStageAnswer({ staged: null }), undefined, 'null is only for the unchanged answer');
    assert.equal(parseStageAnswer({ staged: { id: 'x' } }), undefined);
    assert.ok(parseDiscardAnswer({ discarded: null }));
    assert.equal(parseDiscardAnswer({ discarded: 'x' }), undefined);
  });

  it('takes an activate request of 64 hex digits, in lowercase', () => {
    assert.deepEqual(parseActivateRequest({ sha256: 'AB'.repeat(32) }), { sha256: 'ab'.repeat(32) });
    for (const bad of [undefined, null, 'x', {}, { sha256: 'ab' }, { sha256: 'g'.repeat(64) }, { sha256: 7 }]) {
      assert.equal(parseActivateRequest(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('the supervisor ↔ updater messages', () => {
  it('builds messages that its own validators accept, with the wire names', () => {
    const request = selfUpdateRequest({ id: 'r', version: '1', attempt: 'a' });
    assert.deepEqual(request, { type: 'swarm:self-update', id: 'r', version: '1', attempt: 'a' });
    assert.equal(isSelfUpdateRequest(request), true);
    const message = selfUpdateRecordMessage(record);
    assert.equal(message.type, 'swarm:self-update-record');
    assert.equal(isSelfUpdateRecordMessage(message), true);
    const failure = startFailureReport({ code: 'SWARM_ERR_UPDATER_LOCKED', message: 'held', pid: 7 });
    assert.equal(failure.type, 'swarm:start-failed');
    assert.equal(isStartFailureReport(failure), true);
  });

  it('refuses malformed messages', () => {
    assert.equal(isSelfUpdateRequest({ type: 'swarm:self-update', id: 'r' }), false);
    assert.equal(isSelfUpdateRequest({ type: 'swarm:self-update', id: 'r', version: '1', attempt: 3 }), false);
    assert.equal(isSelfUpdateRequest(null), false);
    assert.equal(isSelfUpdateRecordMessage({ type: 'swarm:self-update-record', record: { outcome: 'ok' } }), false);
    assert.equal(isStartFailureReport({ type: 'swarm:start-failed', error: 'text' }), false);
    assert.equal(isStartFailureReport({ type: 'swarm:self-update', error: {} }), false);
  });

  it('hands a self-update record over through the environment, and reads a bad one as none', () => {
    assert.equal(SELF_UPDATE_RECORD_ENV, 'SWARM_LAST_SELF_UPDATE');
    assert.deepEqual(decodeSelfUpdateRecord(encodeSelfUpdateRecord(record)), record);
    assert.equal(decodeSelfUpdateRecord(encodeSelfUpdateRecord(null)), null);
    assert.equal(decodeSelfUpdateRecord(undefined), null);
    assert.equal(decodeSelfUpdateRecord('{not json'), null);
    assert.equal(decodeSelfUpdateRecord('{"outcome":"maybe","finishedAt":"t"}'), null);
  });
});
