// Stage now, activate later (wiki/reference/updater-api.md#post-stage): a real updater over
// mTLS, real releases and agent processes. The staged release is complete and installed
// while `current` and the agent stay as they are; activation is the flip, restart and probe
// of an update; every bad input is refused with a code and changes nothing.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import { parseDiscardAnswer, parseHealth, parseReleaseList, parseStageAnswer } from '@swarm/protocol';
import {
  currentId,
  killSeenAgents,
  readJournal,
  releaseDirs,
  startTestUpdater,
  waitFor,
  type TestUpdater,
} from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
let v3: PackResult;
let slow: PackResult;
let badInstall: PackResult;
let badProbe: PackResult;
const updaters: TestUpdater[] = [];
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2, v3, slow, badInstall, badProbe] = await Promise.all([
    buildRelease(root, { version: '1.0.0' }),
    buildRelease(root, {
      version: '2.0.0',
      install: ['node', '-e', 'require("fs").writeFileSync("installed", "yes")'],
    }),
    buildRelease(root, { version: '3.0.0' }),
    buildRelease(root, { version: '4.0.0-slow', install: ['node', '-e', 'setTimeout(() => {}, 2500)'] }),
    buildRelease(root, {
      version: '9.0.0-install',
      install: ['node', '-e', 'console.error("npm ERR! boom"); process.exit(7)'],
    }),
    buildRelease(root, { version: '9.0.0-probe', behaviour: 'http-500', deadlineMs: 1500, healthyForMs: 300 }),
  ]);
});

after(async () => {
  for (const u of updaters) await u.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

async function updater(extra: Record<string, unknown> = {}): Promise<TestUpdater> {
  const u = await startTestUpdater(fx, extra);
  updaters.push(u);
  return u;
}

const stage = (u: TestUpdater, r: PackResult) =>
  u.pushParts(
    [
      { name: 'sha256', value: r.sha256 },
      { name: 'size', value: String(r.size) },
      { name: 'tarball', filename: 'release.tgz', path: r.file },
    ],
    { path: '/stage' },
  );
const activate = (u: TestUpdater, body: unknown, contentType = 'application/json') =>
  u.call('/activate', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function health(u: TestUpdater) {
  const parsed = parseHealth((await u.health()).body);
  assert.ok(parsed, 'the updater’s /health parses');
  return parsed;
}

describe('POST /stage', () => {
  it('installs the release beside the active one: current, the agent and its pid untouched; staged in /health and /releases', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const before = await health(u);
    const answer = await stage(u, v2);
    assert.equal(answer.status, 200, answer.text);
    const staged = parseStageAnswer(answer.body);
    assert.equal(staged?.staged?.id, idOf(v2));
    assert.equal(await currentId(u.installDir), idOf(v1), 'current is untouched');
    // Installed: its install step ran in its directory.
    assert.equal(await readFile(join(u.installDir, 'releases', idOf(v2), 'installed'), 'utf8'), 'yes');
    const after = await health(u);
    assert.equal(after.agent.pid, before.agent.pid, 'the agent was not restarted');
    assert.equal(after.active?.id, idOf(v1));
    assert.equal(after.staged?.id, idOf(v2));
    assert.equal(after.lastUpdate?.kind, 'stage');
    assert.equal(after.lastUpdate?.outcome, 'staged');
    const list = parseReleaseList((await u.call('/releases')).body);
    assert.deepEqual(
      list?.releases.map((r) => [r.version, r.slot]),
      [
        ['2.0.0', 'staged'],
        ['1.0.0', 'active'],
      ],
    );
    assert.equal((await readJournal(u.installDir)).staged.id, idOf(v2), 'the staged release is journaled');
  });

  it('the active digest is unchanged; a new stage replaces the previous one, whose directory goes', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const same = await stage(u, v1);
    assert.equal(same.status, 200);
    assert.deepEqual(same.body, { staged: null, unchanged: true });
    assert.equal((await health(u)).staged, null);
    assert.equal((await stage(u, v2)).status, 200);
    assert.equal((await stage(u, v3)).status, 200);
    assert.equal((await health(u)).staged?.id, idOf(v3));
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1), idOf(v3)].sort(), 'the replaced stage is deleted');
    assert.ok(!(await readJournal(u.installDir)).releases.some((r: { id: string }) => r.id === idOf(v2)));
  });

  it('a failing install: 409 with its output, nothing kept, the previous staged release still staged', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, v2)).status, 200);
    const answer = await stage(u, badInstall);
    assert.equal(answer.status, 409, answer.text);
    assert.equal(answer.body.code, 'SWARM_ERR_RELEASE_INSTALL_FAILED');
    assert.equal(answer.body.phase, 'install');
    assert.match(answer.body.output, /npm ERR! boom/);
    const h = await health(u);
    assert.equal(h.staged?.id, idOf(v2), 'the previous stage is still staged');
    assert.equal(h.active?.id, idOf(v1));
    assert.deepEqual(
      await releaseDirs(u.installDir),
      [idOf(v1), idOf(v2)].sort(),
      'nothing of the failed stage is kept',
    );
  });

  it('a stage while another operation runs is 423, and the running one is not disturbed', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const first = stage(u, slow);
    await waitFor('the stage to be in flight', async () => (await health(u)).busy);
    const second = await stage(u, v2);
    assert.equal(second.status, 423, second.text);
    assert.equal(second.body.code, 'SWARM_ERR_UPDATER_BUSY');
    assert.equal((await first).status, 200);
    assert.equal((await health(u)).staged?.id, idOf(slow));
  });
});

describe('POST /activate', () => {
  it('activates the staged release: flip, restart, probe, commit; no longer staged; never re-extracted', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, v2)).status, 200);
    const before = await health(u);
    const { mtimeMs } = await stat(join(u.installDir, 'releases', idOf(v2), 'installed'));
    const answer = await activate(u, { sha256: v2.sha256.toUpperCase() });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.outcome, 'updated');
    assert.equal(answer.body.active.id, idOf(v2));
    assert.equal(answer.body.prev.id, idOf(v1));
    assert.equal(await currentId(u.installDir), idOf(v2));
    const after = await health(u);
    assert.equal(after.staged, null);
    assert.notEqual(after.agent.pid, before.agent.pid, 'the agent runs the new release');
    assert.equal(after.lastUpdate?.kind, 'activate');
    // The staged tree is what runs: not extracted or installed again.
    assert.equal((await stat(join(u.installDir, 'releases', idOf(v2), 'installed'))).mtimeMs, mtimeMs);
  });

  it('POST /update with the staged digest uses the staged release as it is', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, v2)).status, 200);
    const marker = join(u.installDir, 'releases', idOf(v2), 'marker');
    await writeFile(marker, 'kept');
    const answer = await u.push(v2);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.outcome, 'updated');
    assert.equal(await readFile(marker, 'utf8'), 'kept', 'the staged directory was not replaced');
    assert.equal((await health(u)).staged, null);
  });

  it('a digest not staged is 404 NOTHING_STAGED and a malformed body 400: nothing changes', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const none = await activate(u, { sha256: v2.sha256 });
    assert.equal(none.status, 404, none.text);
    assert.equal(none.body.code, 'SWARM_ERR_NOTHING_STAGED');
    assert.equal((await stage(u, v2)).status, 200);
    const other = await activate(u, { sha256: v3.sha256 });
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'SWARM_ERR_NOTHING_STAGED');
    assert.equal(other.body.staged.id, idOf(v2), 'the refusal names what is staged');
    for (const [body, type] of [
      ['{"sha256": "abc"}', 'application/json'],
      ['{not json', 'application/json'],
      [{ digest: v2.sha256 }, 'application/json'],
      [`sha256=${v2.sha256}`, 'application/x-www-form-urlencoded'],
      ['', 'application/json'],
    ] as const) {
      const bad = await activate(u, body, type);
      assert.equal(bad.status, 400, `${JSON.stringify(body)} (${type}): ${bad.text}`);
      assert.equal(bad.body.code, 'SWARM_ERR_UPDATER_BAD_REQUEST');
    }
    const h = await health(u);
    assert.equal(h.active?.id, idOf(v1));
    assert.equal(h.staged?.id, idOf(v2), 'still staged');
    assert.equal(await currentId(u.installDir), idOf(v1));
  });

  it('a staged release that fails its probe is rolled back to the active one and is no longer staged', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, badProbe)).status, 200);
    const before = await health(u);
    const answer = await activate(u, { sha256: badProbe.sha256 });
    assert.equal(answer.status, 409, answer.text);
    assert.equal(answer.body.code, 'SWARM_ERR_RELEASE_PROBE_FAILED');
    assert.equal(answer.body.active.id, idOf(v1));
    const after = await health(u);
    assert.equal(after.active?.id, idOf(v1));
    assert.equal(after.staged, null);
    assert.notEqual(after.agent.pid, before.agent.pid, 'the previous release runs again, restarted');
    assert.equal(after.agent.healthy, true);
    assert.equal(await currentId(u.installDir), idOf(v1));
  });
});

describe('DELETE /staged and restarts', () => {
  it('discards the staged release and deletes its directory; with nothing staged it says null', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, v2)).status, 200);
    const answer = await u.call('/staged', { method: 'DELETE' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(parseDiscardAnswer(answer.body)?.discarded?.id, idOf(v2));
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)]);
    assert.equal((await health(u)).staged, null);
    const again = await u.call('/staged', { method: 'DELETE' });
    assert.deepEqual(again.body, { discarded: null });
    const agentOnly = await u.call('/staged', { method: 'DELETE', client: fx.h1Agent });
    assert.equal(agentOnly.status, 403, 'only the master may discard');
  });

  it('a staged release survives a restart of the updater and is never pruned', async () => {
    const u = await updater({ keep: 2 });
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await stage(u, v2)).status, 200);
    // Two more updates: with keep 2, only active and prev would stay — and the staged release.
    assert.equal((await u.push(v3)).status, 200);
    assert.equal((await u.push(v1)).status, 200);
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1), idOf(v2), idOf(v3)].sort());
    await u.updater.close();
    const next = await updater({ installDir: u.installDir, agentPort: u.agentPort, keep: 2 });
    await waitFor('the restarted updater’s agent to be healthy', async () => (await health(next)).agent.healthy);
    assert.equal((await health(next)).staged?.id, idOf(v2));
    const answer = await activate(next, { sha256: v2.sha256 });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(await currentId(u.installDir), idOf(v2));
  });
});
