// `swarm updater state` (wiki/reference/cli.md#swarm-updater-state): the host's state read from
// the journal of a real install directory, with the updater stopped, changing nothing; with
// --staged, a sentinel exit status for external coordinators.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import { killSeenAgents, startTestUpdater, type TestUpdater } from '../packages/updater/test/helpers/harness.js';
import { createPkiFixture, type PkiFixture } from '../packages/updater/test/helpers/pki-fixture.js';
import { buildRelease } from '../packages/updater/test/helpers/releases.js';
import { swarm } from './cli-harness.js';

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
let stagedHost: TestUpdater;
let plainHost: TestUpdater;
const env = { PATH: process.env.PATH ?? '' };
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2] = await Promise.all([buildRelease(root, { version: '1.0.0' }), buildRelease(root, { version: '2.0.0' })]);
  stagedHost = await startTestUpdater(fx);
  plainHost = await startTestUpdater(fx);
  for (const u of [stagedHost, plainHost]) assert.equal((await u.push(v1)).status, 200);
  const staged = await stagedHost.pushParts(
    [
      { name: 'sha256', value: v2.sha256 },
      { name: 'tarball', filename: 'release.tgz', path: v2.file },
    ],
    { path: '/stage' },
  );
  assert.equal(staged.status, 200, staged.text);
  // The daemons are stopped: the command must not need them.
  await stagedHost.close();
  await plainHost.close();
});

after(async () => {
  killSeenAgents();
  await fx?.cleanup();
});

describe('swarm updater state', () => {
  it('prints active, prev, staged and the last operations from the journal, without the daemon', async () => {
    const res = await swarm(['updater', 'state', '--install-dir', stagedHost.installDir], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^active\\s+web 1\\.0\\.0 \\(${idOf(v1)}\\)$`, 'm'));
    assert.match(res.stdout, new RegExp(`^staged\\s+web 2\\.0\\.0 \\(${idOf(v2)}\\)$`, 'm'));
    assert.match(res.stdout, /^in flight\s+-$/m);
    assert.match(res.stdout, /\bstage\s+staged\s+web 2\.0\.0/);
  });

  it('--json: the same state as one JSON document, and nothing on disk changes', async () => {
    const journal = join(stagedHost.installDir, 'state.json');
    const before = await readFile(journal, 'utf8');
    const res = await swarm(['updater', 'state', '--json', '--install-dir', stagedHost.installDir], env);
    assert.equal(res.code, 0, res.stderr);
    const state = JSON.parse(res.stdout) as Record<string, { id?: string } | unknown>;
    assert.equal((state.active as { id: string }).id, idOf(v1));
    assert.equal((state.staged as { id: string }).id, idOf(v2));
    assert.equal(state.stagedWaiting, true);
    assert.equal(state.inFlight, null);
    assert.ok(Array.isArray(state.history) && state.history.length === 2);
    assert.equal(await readFile(journal, 'utf8'), before, 'the journal is untouched');
  });

  it('--staged exits 0 with a staged release and 1 without', async () => {
    const staged = await swarm(['updater', 'state', '--install-dir', stagedHost.installDir, '--staged'], env);
    assert.equal(staged.code, 0, staged.stderr);
    const none = await swarm(['updater', 'state', '--install-dir', plainHost.installDir, '--staged'], env);
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stdout, /^staged\s+-$/m);
  });

  it('refuses a missing install directory (2), a missing flag (2) and a file that is not a journal (2)', async () => {
    const missing = await swarm(['updater', 'state', '--install-dir', join(fx.root, 'nowhere')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /SWARM_ERR_CONFIG_INVALID: .*nowhere is not an install directory/);
    const noFlag = await swarm(['updater', 'state'], env);
    assert.equal(noFlag.code, 2);
    assert.match(noFlag.stderr, /SWARM_ERR_USAGE_INVALID: required option '--install-dir <dir>'/);
    const dir = await mkdtemp(join(fx.root, 'not-a-journal-'));
    await writeFile(join(dir, 'state.json'), '{"schema": 7}\n');
    const invalid = await swarm(['updater', 'state', '--install-dir', dir, '--staged'], env);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /SWARM_ERR_UPDATER_JOURNAL_INVALID/);
    assert.equal(invalid.stdout, '');
  });
});
