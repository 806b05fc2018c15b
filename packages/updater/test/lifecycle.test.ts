import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import {
  agentHealth,
  currentId,
  cwdOf,
  killSeenAgents,
  pidAlive,
  readJournal,
  releaseDirs,
  releasePath,
  startTestUpdater,
  trackAgent,
  waitFor,
  type TestUpdater,
} from './helpers/harness.js';
import { buildRelease, type AgentBehaviour } from './helpers/releases.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
let v3: PackResult;
const bad: Partial<Record<AgentBehaviour, PackResult>> = {};
let badInstall: PackResult;
const updaters: TestUpdater[] = [];

async function updater(extra: Record<string, unknown> = {}): Promise<TestUpdater> {
  const u = await startTestUpdater(fx, extra);
  updaters.push(u);
  return u;
}

const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2, v3, badInstall] = await Promise.all([
    buildRelease(root, { version: '1.0.0' }),
    buildRelease(root, { version: '2.0.0' }),
    buildRelease(root, { version: '3.0.0' }),
    buildRelease(root, {
      version: '9.0.0-install',
      install: ['node', '-e', 'console.log("installing..."); console.error("npm ERR! boom"); process.exit(7)'],
    }),
  ]);
  for (const behaviour of ['exit-at-start', 'http-500', 'die-after-one', 'wrong-version'] as const) {
    bad[behaviour] = await buildRelease(root, {
      version: `9.0.0-${behaviour}`,
      behaviour,
      deadlineMs: 1500,
      healthyForMs: 500,
    });
  }
});

after(async () => {
  for (const u of updaters) await u.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

describe('a good push', () => {
  it('answers 200, points current at releases/<version>-<sha12>, runs the agent from there, and shows it in /health and /releases', async () => {
    const u = await updater();
    const res = await u.push(v1);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'updated');
    assert.equal(res.body.release.id, idOf(v1));
    assert.equal(res.body.release.sha256, v1.sha256);
    assert.equal(res.body.active.id, idOf(v1));
    assert.equal(res.body.prev, null);

    assert.equal(await currentId(u.installDir), idOf(v1));
    const health = await u.health();
    assert.equal(health.status, 200);
    assert.equal(health.body.role, 'updater');
    assert.equal(health.body.host, 'h1');
    assert.equal(health.body.protocol, 1);
    assert.equal(health.body.busy, false);
    assert.equal(health.body.active.id, idOf(v1));
    assert.equal(health.body.agent.running, true);
    assert.equal(health.body.agent.healthy, true);
    assert.equal(health.body.lastUpdate.outcome, 'updated');
    const pid = health.body.agent.pid as number;
    assert.equal(await cwdOf(pid), await releasePath(u.installDir, idOf(v1)));

    // The agent got the wiki/reference/layouts.md#release-tarball environment and answers its health.
    const agent = await agentHealth(u.agentPort);
    assert.equal(agent.version, '1.0.0');
    assert.equal(agent.pid, pid);
    assert.equal(agent.env.host, 'h1');
    assert.equal(agent.env.ca, join(fx.bundleDir, 'ca.crt'));
    assert.equal(agent.env.cert, join(fx.bundleDir, 'agent.crt'));
    assert.equal(agent.env.key, join(fx.bundleDir, 'agent.key'));
    assert.equal(agent.env.dir, await releasePath(u.installDir, idOf(v1)));

    const releases = await u.call('/releases');
    assert.equal(releases.status, 200);
    assert.deepEqual(
      releases.body.releases.map((r: { id: string; slot: string | null; version: string }) => [
        r.id,
        r.slot,
        r.version,
      ]),
      [[idOf(v1), 'active', '1.0.0']],
    );
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)], 'no staging left');
    const journal = await readJournal(u.installDir);
    assert.equal(journal.active.id, idOf(v1));
    assert.equal(journal.inFlight, null);
  });

  it('a second good push makes the first prev, restarts the agent from the new release, and prunes beyond keep', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const first = (await u.health()).body.agent.pid as number;
    const res2 = await u.push(v2);
    assert.equal(res2.status, 200, res2.text);
    assert.equal(res2.body.active.id, idOf(v2));
    assert.equal(res2.body.prev.id, idOf(v1));
    const second = (await u.health()).body.agent.pid as number;
    assert.notEqual(second, first);
    assert.equal(await pidAlive(first), false, 'the old agent is stopped');
    assert.equal(await cwdOf(second), await releasePath(u.installDir, idOf(v2)));

    const res3 = await u.push(v3);
    assert.equal(res3.status, 200, res3.text);
    // keep = 2: v1 is neither active nor prev any more and is pruned after the commit.
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v2), idOf(v3)].sort());
    const releases = (await u.call('/releases')).body.releases as { id: string; slot: string | null }[];
    assert.deepEqual(
      releases.map((r) => [r.id, r.slot]).sort(),
      [
        [idOf(v2), 'prev'],
        [idOf(v3), 'active'],
      ].sort(),
    );
  });

  it('pushing the active release again is a no-op 200 (unchanged) that keeps the agent', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const pid = (await u.health()).body.agent.pid;
    const again = await u.push(v1);
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'unchanged');
    assert.equal((await u.health()).body.agent.pid, pid);
    assert.equal((await readJournal(u.installDir)).history.at(-1).outcome, 'unchanged');
  });
});

describe('a second release that fails its probe', () => {
  for (const behaviour of ['exit-at-start', 'http-500', 'die-after-one', 'wrong-version'] as const) {
    it(`(${behaviour}) → 409, current back on the first release, the first release's code running in a new process, the journal says why`, async () => {
      const u = await updater();
      assert.equal((await u.push(v1)).status, 200);
      const before = (await u.health()).body.agent.pid as number;
      const release = bad[behaviour]!;
      const res = await u.push(release);
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.code, 'SWARM_ERR_RELEASE_PROBE_FAILED');
      assert.equal(res.body.phase, 'probe');
      assert.equal(res.body.active.id, idOf(v1));
      assert.equal(res.body.release.id, idOf(release));
      assert.equal(typeof res.body.detail, 'string');
      assert.ok(res.body.detail.length > 0);
      assert.equal(typeof res.body.agentOutput, 'string');
      if (behaviour === 'exit-at-start') {
        assert.match(res.body.detail, /exited with code 3/);
        assert.match(res.body.agentOutput, /exiting at start on purpose/);
      }
      if (behaviour === 'http-500') assert.match(res.body.detail, /answered 500/);
      if (behaviour === 'die-after-one') assert.match(res.body.agentOutput, /dying after one healthy answer/);
      if (behaviour === 'wrong-version') assert.match(res.body.detail, /reports version "0\.0\.0-wrong"/);

      assert.equal(await currentId(u.installDir), idOf(v1));
      const health = (await u.health()).body;
      trackAgent(health.agent.pid);
      assert.equal(health.active.id, idOf(v1));
      assert.equal(health.agent.running, true);
      assert.notEqual(health.agent.pid, before, 'the first release was restarted, not left as it was');
      assert.equal(await cwdOf(health.agent.pid), await releasePath(u.installDir, idOf(v1)));
      assert.equal((await agentHealth(u.agentPort)).version, '1.0.0');
      assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)], 'the failed release and staging are gone');

      const journal = await readJournal(u.installDir);
      const last = journal.history.at(-1);
      assert.equal(last.outcome, 'rolled_back');
      assert.equal(last.error.code, 'SWARM_ERR_RELEASE_PROBE_FAILED');
      assert.equal(last.release.id, idOf(release));
      assert.ok(last.error.detail.length > 0);
      assert.equal(journal.active.id, idOf(v1));
      assert.equal(journal.inFlight, null);
    });
  }
});

describe('a first release that fails', () => {
  it('→ 409 RELEASE_FIRST_FAILED with active null, no current, no agent; the updater stays healthy and the next good push succeeds', async () => {
    const u = await updater();
    const res = await u.push(bad['exit-at-start']!);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_RELEASE_FIRST_FAILED');
    assert.equal(res.body.active, null);
    assert.equal(res.body.phase, 'probe');
    assert.equal(await currentId(u.installDir), null);
    assert.deepEqual(await releaseDirs(u.installDir), []);
    const health = await u.health();
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.agent.running, false);
    assert.equal(health.body.active, null);

    const good = await u.push(v1);
    assert.equal(good.status, 200, good.text);
    assert.equal(await currentId(u.installDir), idOf(v1));
  });
});

describe('install', () => {
  it('a failing install → 409 INSTALL_FAILED with its output; active unchanged, the agent untouched, the release deleted', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const pid = (await u.health()).body.agent.pid;
    const res = await u.push(badInstall);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_RELEASE_INSTALL_FAILED');
    assert.equal(res.body.phase, 'install');
    assert.equal(res.body.exitCode, 7);
    assert.match(res.body.output, /installing\.\.\./);
    assert.match(res.body.output, /npm ERR! boom/);
    assert.equal(res.body.active.id, idOf(v1));
    assert.equal(await currentId(u.installDir), idOf(v1));
    assert.equal((await u.health()).body.agent.pid, pid, 'the running agent was not touched');
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)]);
    assert.equal((await readJournal(u.installDir)).history.at(-1).error.code, 'SWARM_ERR_RELEASE_INSTALL_FAILED');
  });

  it('install runs in the release directory with the release environment before activation', async () => {
    const u = await updater();
    const root = join(fx.root, 'releases-install');
    const release = await buildRelease(root, {
      version: '1.1.0',
      install: [
        'node',
        '-e',
        'require("fs").writeFileSync("installed.txt", process.cwd() + "|" + process.env.SWARM_RELEASE_VERSION)',
      ],
    });
    const res = await u.push(release);
    assert.equal(res.status, 200, res.text);
    const dir = await releasePath(u.installDir, idOf(release));
    const { readFile } = await import('node:fs/promises');
    assert.equal(await readFile(join(dir, 'installed.txt'), 'utf8'), `${dir}|1.1.0`);
  });
});

describe('rollback', () => {
  it('POST /rollback → the previous code runs again in a new process from its own directory; active and prev swap', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    assert.equal((await u.push(v2)).status, 200);
    const before = (await u.health()).body.agent.pid as number;
    const res = await u.call('/rollback', { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'rolled_back');
    assert.equal(res.body.active.id, idOf(v1));
    assert.equal(res.body.prev.id, idOf(v2));
    const health = (await u.health()).body;
    assert.notEqual(health.agent.pid, before);
    assert.equal(await pidAlive(before), false);
    assert.equal(await cwdOf(health.agent.pid), await releasePath(u.installDir, idOf(v1)));
    assert.equal((await agentHealth(u.agentPort)).version, '1.0.0');
    assert.equal(await currentId(u.installDir), idOf(v1));
    assert.equal((await readJournal(u.installDir)).history.at(-1).kind, 'rollback');

    // And forward again: a rollback of the rollback.
    const again = await u.call('/rollback', { method: 'POST' });
    assert.equal(again.status, 200);
    assert.equal(again.body.active.id, idOf(v2));
  });

  it('with no prev → 404 ROLLBACK_NOTHING, nothing changes', async () => {
    const u = await updater();
    const none = await u.call('/rollback', { method: 'POST' });
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'SWARM_ERR_ROLLBACK_NOTHING');
    assert.equal((await u.push(v1)).status, 200);
    const pid = (await u.health()).body.agent.pid;
    const still = await u.call('/rollback', { method: 'POST' });
    assert.equal(still.status, 404);
    assert.equal(still.body.code, 'SWARM_ERR_ROLLBACK_NOTHING');
    assert.equal((await u.health()).body.agent.pid, pid);
  });
});

describe('supervision', () => {
  it('a crashed agent is restarted (new pid, same release) outside updates', async () => {
    const u = await updater();
    assert.equal((await u.push(v1)).status, 200);
    const pid = (await u.health()).body.agent.pid as number;
    process.kill(-pid, 'SIGKILL');
    const next = await waitFor('a restarted agent', async () => {
      const h = (await u.health()).body;
      return h.agent.running && h.agent.pid !== pid ? h.agent.pid : null;
    });
    trackAgent(next);
    assert.equal(await cwdOf(next), await releasePath(u.installDir, idOf(v1)));
    await waitFor('the restarted agent to be healthy', async () => (await u.health()).body.agent.healthy);
  });

  it('an agent that ignores SIGTERM is killed after stopTimeoutMs when replaced', async () => {
    const u = await updater();
    const stubborn = await buildRelease(join(fx.root, 'releases-stubborn'), {
      version: '1.2.0',
      behaviour: 'ignore-sigterm',
      stopTimeoutMs: 300,
    });
    assert.equal((await u.push(stubborn)).status, 200);
    const pid = (await u.health()).body.agent.pid as number;
    const res = await u.push(v2);
    assert.equal(res.status, 200, res.text);
    assert.equal(await pidAlive(pid), false);
  });
});

describe('probe kinds', () => {
  it('https: the agent is verified against the CA and the updater presents its own certificate (the agent requires it)', async () => {
    const u = await updater();
    const release = await buildRelease(join(fx.root, 'releases-https'), { version: '1.3.0', behaviour: 'https' });
    const res = await u.push(release);
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.probe, /https:\/\/127\.0\.0\.1:\d+\/health answered 200/);
  });

  it('tcp and exec checks (exec runs in the release directory with the release environment)', async () => {
    const u = await updater();
    const root = join(fx.root, 'releases-kinds');
    const tcp = await buildRelease(root, { version: '1.4.0', health: { tcp: '127.0.0.1:${SWARM_AGENT_PORT}' } });
    const res = await u.push(tcp);
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.probe, /tcp 127\.0\.0\.1:\d+ accepted/);
    const exec = await buildRelease(root, {
      version: '1.5.0',
      health: { exec: ['node', 'check.mjs'] },
      files: {
        'check.mjs':
          "import { existsSync } from 'node:fs';\nprocess.exit(existsSync('agent.mjs') && process.env.SWARM_RELEASE_VERSION === '1.5.0' ? 0 : 1);\n",
      },
    });
    const res2 = await u.push(exec);
    assert.equal(res2.status, 200, res2.text);
    assert.match(res2.body.probe, /exited 0/);
    const failing = await buildRelease(root, {
      version: '1.6.0',
      health: { exec: ['node', '-e', 'console.log("db down"); process.exit(2)'] },
      deadlineMs: 2500,
    });
    const res3 = await u.push(failing);
    assert.equal(res3.status, 409);
    assert.match(res3.body.detail, /exited 2: db down/);
  });
});

describe('when the previous release does not come back', () => {
  it('→ 500 ROLLBACK_FAILED with rolledBack describing the host: current back on the previous release, its agent not healthy', async () => {
    const u = await updater({ restartBackoffMs: 60_000, restartBackoffMaxMs: 60_000 });
    const once = await buildRelease(join(fx.root, 'releases-once'), {
      version: '1.7.0',
      behaviour: 'healthy-once',
      deadlineMs: 1500,
    });
    assert.equal((await u.push(once)).status, 200);
    const res = await u.push(bad['exit-at-start']!);
    assert.equal(res.status, 500, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_ROLLBACK_FAILED');
    assert.equal(res.body.phase, 'probe');
    assert.equal(res.body.active.id, idOf(once));
    assert.equal(res.body.rolledBack.done, true, 'current is back on the committed release');
    assert.equal(res.body.rolledBack.current, idOf(once));
    assert.equal(res.body.rolledBack.agent.running, false);
    assert.match(res.body.rolledBack.detail, /exited with code 5/);
    assert.equal(await currentId(u.installDir), idOf(once));
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(once)], 'the failed release is deleted');
    const health = (await u.health()).body;
    assert.equal(health.status, 'degraded');
    assert.equal(health.lastUpdate.error.code, 'SWARM_ERR_ROLLBACK_FAILED');
  });
});

describe('the agent log', () => {
  it('goes to logs/agent.log and is rotated to agent.log.1 at a start once over agentLogMaxBytes', async () => {
    const u = await updater({ agentLogMaxBytes: 1024 });
    const chatty = await buildRelease(join(fx.root, 'releases-chatty'), { version: '1.8.0', behaviour: 'chatty' });
    assert.equal((await u.push(chatty)).status, 200);
    const { readFile, stat } = await import('node:fs/promises');
    const log = join(u.installDir, 'logs', 'agent.log');
    assert.ok((await stat(log)).size > 4096);
    assert.match(await readFile(log, 'utf8'), /starting 1\.8\.0-/);
    assert.equal((await u.push(v1)).status, 200);
    assert.ok((await stat(`${log}.1`)).size > 4096, 'the big log was rotated away');
    assert.ok((await stat(log)).size < 1024, 'the new agent writes a fresh log');
    assert.match(await readFile(log, 'utf8'), /agent 1\.0\.0 \(good\) listening/);
  });
});
