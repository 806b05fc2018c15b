// The wire contract, from both ends: a real updater's answers (real mTLS, real releases,
// real agent processes) run through the parsers the master's client uses (@swarm/protocol),
// and their keys checked against the tables of wiki/reference/updater-api.md, so that the
// code, the client and the reference page cannot drift apart unnoticed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import {
  parseDiscardAnswer,
  parseHealth,
  parseOperationResult,
  parseReleaseList,
  parseStageAnswer,
} from '@swarm/protocol';
import { killSeenAgents, startTestUpdater, type TestUpdater } from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';

const REFERENCE = fileURLToPath(new URL('../../../wiki/reference/updater-api.md', import.meta.url));

/** The keys of the first table under `heading` in the reference page (a cell `a`, `b` gives both). */
async function documentedKeys(heading: string): Promise<string[]> {
  const text = await readFile(REFERENCE, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the reference has no "${heading}"`);
  const lines = text.slice(start + heading.length + 2).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const rows = lines.slice(first + 2, end); // past the header and its separator
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)).sort();
}

const RELEASE_KEYS = ['id', 'installedAt', 'name', 'sha256', 'version'];
const keysOf = (value: unknown) => Object.keys(value as object).sort();

let fx: PkiFixture;
let u: TestUpdater;
let v1: PackResult;
let v2: PackResult;
let broken: PackResult;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2, broken] = await Promise.all([
    buildRelease(root, { version: '1.0.0' }),
    buildRelease(root, { version: '2.0.0' }),
    buildRelease(root, { version: '9.0.0', behaviour: 'exit-at-start', deadlineMs: 1500, healthyForMs: 300 }),
  ]);
  u = await startTestUpdater(fx);
});

after(async () => {
  await u?.close();
  killSeenAgents();
  await fx?.cleanup();
});

describe('the updater’s answers parse with the protocol and match the reference', () => {
  it('GET /health before any release: every documented key, nothing undocumented', async () => {
    const answer = await u.health();
    assert.equal(answer.status, 200);
    const health = parseHealth(answer.body);
    assert.ok(health, `the client refuses the updater's own /health: ${JSON.stringify(answer.body)}`);
    const documented = await documentedKeys('## GET /health');
    assert.equal(documented.length, 13, `the table of GET /health: ${documented.join(', ')}`);
    assert.deepEqual(keysOf(answer.body), documented);
    assert.equal(health.active, null);
    assert.equal(health.lastUpdate, null);
    assert.deepEqual(keysOf(health.agent), ['healthy', 'pid', 'running']);
  });

  it('POST /update: the operation result, the release object, then /health and /releases', async () => {
    const first = await u.push(v1);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const result = parseOperationResult(first.body);
    assert.ok(result);
    const documented = await documentedKeys('### Operation result');
    assert.ok(documented.includes('durationMs') && documented.length === 7, documented.join(', '));
    assert.deepEqual(keysOf(first.body), documented);
    assert.deepEqual(keysOf(result.release), RELEASE_KEYS);

    const second = await u.push(v2);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const health = parseHealth((await u.health()).body);
    assert.ok(health);
    assert.equal(health.active?.version, '2.0.0');
    assert.equal(health.prev?.version, '1.0.0');
    assert.ok(health.lastUpdate, 'lastUpdate is set after an update');
    assert.equal(health.lastUpdate.kind, 'update');
    assert.equal(health.lastUpdate.outcome, 'updated');
    assert.deepEqual(keysOf(health.lastUpdate.release), RELEASE_KEYS);

    const listed = await u.call('/releases');
    const list = parseReleaseList(listed.body);
    assert.ok(list, JSON.stringify(listed.body));
    assert.deepEqual(
      list.releases.map((r) => [r.version, r.slot]),
      [
        ['2.0.0', 'active'],
        ['1.0.0', 'prev'],
      ],
    );
  });

  it('POST /rollback: an operation result with outcome rolled_back', async () => {
    const answer = await u.call('/rollback', { method: 'POST' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const result = parseOperationResult(answer.body);
    assert.ok(result);
    assert.equal(result['outcome'], 'rolled_back');
    assert.equal(result.active?.version, '1.0.0');
  });

  it('an operation that fails: the error body with its documented details, and a lastUpdate with its error', async () => {
    const answer = await u.push(broken);
    assert.equal(answer.status, 409, JSON.stringify(answer.body));
    const body = answer.body as Record<string, unknown>;
    assert.match(String(body.code), /^SWARM_ERR_[A-Z_]+$/);
    assert.equal(typeof body.message, 'string');
    for (const key of ['phase', 'active', 'release', 'detail', 'agentOutput']) assert.ok(key in body, `no ${key}`);
    assert.ok(!('stack' in body), 'no stack trace reaches a client');
    // The releases an error names are release objects the client accepts.
    assert.ok(parseOperationResult({ active: body.active, release: body.release }));
    const health = parseHealth((await u.health()).body);
    assert.ok(health?.lastUpdate?.error);
    assert.equal(health.lastUpdate.error.code, body.code);
    assert.equal(health.active?.version, '1.0.0', 'the active release is untouched');
  });

  it('POST /update-self without a supervisor: a coded 409 the client reads as an error body', async () => {
    const answer = await u.pushParts(
      [
        { name: 'sha256', value: v1.sha256 },
        { name: 'tarball', filename: 'release.tgz', path: v1.file },
      ],
      { path: '/update-self' },
    );
    assert.equal(answer.status, 409);
    assert.equal((answer.body as { code?: string }).code, 'SWARM_ERR_SELF_UPDATE_UNSUPPORTED');
    assert.equal(parseHealth((await u.health()).body)?.lastSelfUpdate, null);
  });

  it('POST /stage, DELETE /staged and POST /activate: answers the protocol parses, staged in /health', async () => {
    const push = (path: string) =>
      u.pushParts(
        [
          { name: 'sha256', value: v2.sha256 },
          { name: 'tarball', filename: 'release.tgz', path: v2.file },
        ],
        { path },
      );
    const staged = await push('/stage');
    assert.equal(staged.status, 200, JSON.stringify(staged.body));
    assert.deepEqual(keysOf(parseStageAnswer(staged.body)), ['staged']);
    assert.equal(parseHealth((await u.health()).body)?.staged?.sha256, v2.sha256);
    const discarded = await u.call('/staged', { method: 'DELETE' });
    assert.deepEqual(keysOf(parseDiscardAnswer(discarded.body)?.discarded), RELEASE_KEYS);
    assert.equal((await push('/stage')).status, 200);
    const activated = await u.call('/activate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: v2.sha256 }),
    });
    assert.equal(activated.status, 200, JSON.stringify(activated.body));
    assert.deepEqual(keysOf(activated.body), await documentedKeys('### Operation result'));
    assert.equal(parseHealth((await u.health()).body)?.staged, null);
  });

  it('the parsers refuse what an updater must never send', () => {
    const health = { status: 'ok', role: 'updater', host: 'h', version: '1', protocol: 1, busy: false };
    assert.equal(parseHealth({ ...health, agent: { pid: null, running: 'yes', healthy: false } }), undefined);
    assert.equal(parseReleaseList({ releases: [{ id: 'x' }] }), undefined);
    assert.equal(parseOperationResult({ release: { id: 'x', name: 'n' } }), undefined);
  });
});
