import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import {
  agentHealth,
  currentId,
  cwdOf,
  freePort,
  killSeenAgents,
  pidAlive,
  readJournal,
  releaseDirs,
  releasePath,
  trackAgent,
  trackRecordedAgent,
  updaterClient,
  waitFor,
} from './helpers/harness.js';
import { createLogger } from '@swarm/log';
import { parseUpdaterConfig, startUpdater } from '../src/index.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';
import { spawnUpdater, type UpdaterProcess } from './helpers/updater-process.js';

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
let slowInstall: PackResult;
let installPidFile: string;
const processes: UpdaterProcess[] = [];
const installDirs: string[] = [];
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  installPidFile = join(fx.root, 'install.pid');
  [v1, v2, slowInstall] = await Promise.all([
    buildRelease(root, { version: '1.0.0' }),
    buildRelease(root, { version: '2.0.0' }),
    buildRelease(root, {
      version: '2.1.0-slow',
      install: [
        'node',
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(installPidFile)}, String(process.pid)); setTimeout(() => {}, 60000)`,
      ],
    }),
  ]);
});

after(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  for (const dir of installDirs) await trackRecordedAgent(dir);
  killSeenAgents();
  await fx?.cleanup();
});

/** A scenario: its own install directory and agent port, and updater processes started on them. */
async function scenario() {
  const installDir = await mkdtemp(join(fx.root, 'install-'));
  installDirs.push(installDir);
  const agentPort = await freePort();
  const start = async (env: Record<string, string> = {}) => {
    const p = spawnUpdater(
      fx,
      {
        '--install-dir': installDir,
        '--agent-port': agentPort,
        '--probe-interval-ms': 50,
        '--health-check-interval-ms': 200,
        '--stop-timeout-ms': 2000,
      },
      env,
    );
    processes.push(p);
    const { port } = await p.ready;
    return { process: p, client: updaterClient(fx, port) };
  };
  return { installDir, agentPort, start };
}

/**
 * Commit v1 with an updater run in this process (one process start saved per scenario), then
 * stop it gracefully: the v1 agent keeps running for the next updater to adopt.
 */
async function withV1Committed(
  s: Awaited<ReturnType<typeof scenario>>,
  releases: PackResult[] = [v1],
): Promise<number> {
  const config = parseUpdaterConfig({
    flags: {
      bundle: fx.bundleDir,
      installDir: s.installDir,
      listen: '127.0.0.1:0',
      agentPort: s.agentPort,
      probeIntervalMs: 50,
    },
  });
  const a = await startUpdater({ config, logger: createLogger({ name: 'updater', level: 'silent' }) });
  const client = updaterClient(fx, a.address.port);
  for (const release of releases) {
    const res = await client.push(release);
    assert.equal(res.status, 200, res.text);
  }
  const pid = (await client.health()).body.agent.pid as number;
  trackAgent(pid);
  await a.close();
  assert.equal(await pidAlive(pid), true, 'the agent outlives a graceful updater stop');
  return pid;
}

/** The invariants after a crash and a restart: v1 committed and running, no staging, the operation recorded as interrupted. */
async function assertRecovered(
  s: Awaited<ReturnType<typeof scenario>>,
  client: ReturnType<typeof updaterClient>,
  phase: string,
) {
  assert.equal(await currentId(s.installDir), idOf(v1), 'current resolves to the committed release');
  assert.deepEqual(await releaseDirs(s.installDir), [idOf(v1)], 'no staging and no uncommitted release remain');
  const health = (await client.health()).body;
  assert.equal(health.active.id, idOf(v1));
  assert.equal(health.agent.running, true);
  assert.equal(health.lastUpdate.outcome, 'interrupted');
  assert.equal(health.lastUpdate.phase, phase);
  assert.equal(health.lastUpdate.recovery, 'reverted');
  assert.equal(await cwdOf(health.agent.pid), await releasePath(s.installDir, idOf(v1)));
  assert.equal((await agentHealth(s.agentPort)).version, '1.0.0');
  const journal = await readJournal(s.installDir);
  assert.equal(journal.inFlight, null);
  assert.equal(journal.active.id, idOf(v1));
  return health;
}

describe('kill -9 of the updater, then a restart', () => {
  it('during receive → v1 still active, its agent adopted (same pid), no staging, lastUpdate interrupted', async () => {
    const s = await scenario();
    const agentPid = await withV1Committed(s);
    const b = await s.start({ SWARM_TEST_KILL_AT: 'during:receive' });
    await assert.rejects(b.client.push(v2));
    assert.equal((await b.process.exited).signal, 'SIGKILL');
    const c = await s.start();
    const health = await assertRecovered(s, c.client, 'receive');
    assert.equal(health.agent.pid, agentPid, 'the running agent was adopted, not restarted');
    assert.equal((await c.client.push(v2)).status, 200, 'the next update succeeds');
  });

  it('during install → the install command is killed, the half-installed release deleted, v1 adopted', async () => {
    const s = await scenario();
    const agentPid = await withV1Committed(s);
    const b = await s.start({ SWARM_TEST_KILL_AT: 'during:install' });
    await assert.rejects(b.client.push(slowInstall));
    assert.equal((await b.process.exited).signal, 'SIGKILL');
    const installPid = Number(
      await waitFor('the install command to start', () => readFile(installPidFile, 'utf8').catch(() => '')),
    );
    const c = await s.start();
    const health = await assertRecovered(s, c.client, 'install');
    assert.equal(health.agent.pid, agentPid);
    assert.equal(await pidAlive(installPid), false, 'the orphaned install command was killed');
  });

  it('during probe → the new agent is stopped, current back on v1, a v1 agent runs again', async () => {
    const s = await scenario();
    await withV1Committed(s);
    const b = await s.start({ SWARM_TEST_KILL_AT: 'during:probe' });
    await assert.rejects(b.client.push(v2));
    assert.equal((await b.process.exited).signal, 'SIGKILL');
    // The v2 agent was started and survived the crash (its own process group).
    const record = JSON.parse(await readFile(join(s.installDir, 'agent.json'), 'utf8')) as {
      pid: number;
      releaseId: string;
    };
    trackAgent(record.pid);
    assert.equal(record.releaseId, idOf(v2));
    assert.equal(await currentId(s.installDir), idOf(v2), 'the crash left current on the uncommitted release');
    const c = await s.start();
    const health = await assertRecovered(s, c.client, 'probe');
    assert.equal(await pidAlive(record.pid), false, "the uncommitted release's agent was stopped");
    assert.notEqual(health.agent.pid, record.pid);
  });

  it('after activate during a rollback → recovery completes the rollback', async () => {
    const s = await scenario();
    await withV1Committed(s, [v1, v2]);
    const b = await s.start({ SWARM_TEST_KILL_AT: 'after:activate' });
    await assert.rejects(b.client.call('/rollback', { method: 'POST' }));
    assert.equal((await b.process.exited).signal, 'SIGKILL');
    const c = await s.start();
    const health = (await c.client.health()).body;
    assert.equal(health.active.id, idOf(v1));
    assert.equal(health.prev.id, idOf(v2));
    assert.equal(health.lastUpdate.outcome, 'interrupted');
    assert.equal(health.lastUpdate.recovery, 'completed');
    assert.equal(await currentId(s.installDir), idOf(v1));
    await waitFor('the v1 agent', async () => (await agentHealth(s.agentPort)).version === '1.0.0');
    assert.equal(await cwdOf((await c.client.health()).body.agent.pid), await releasePath(s.installDir, idOf(v1)));
  });
});

describe('the install-directory lock', () => {
  it('a second updater on the same install directory refuses to start, naming the owner PID', async () => {
    const s = await scenario();
    const a = await s.start();
    const second = spawnUpdater(fx, { '--install-dir': s.installDir, '--agent-port': s.agentPort });
    processes.push(second);
    const { code } = await second.exited;
    assert.equal(code, 2);
    const error = JSON.parse(second.stderr().trim().split('\n').at(-1)!) as {
      code: string;
      pid: number;
      message: string;
    };
    assert.equal(error.code, 'SWARM_ERR_UPDATER_LOCKED');
    assert.equal(error.pid, a.process.child.pid);
    assert.match(error.message, new RegExp(`PID ${a.process.child.pid}`));
    assert.equal((await a.client.health()).status, 200, 'the first one is unaffected');
    a.process.child.kill('SIGTERM');
    await a.process.exited;
  });

  it('a stale lock left by a dead process is taken over', async () => {
    const s = await scenario();
    // A PID that existed and is gone: a lock its owner never released.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(
      join(s.installDir, 'updater.lock'),
      JSON.stringify({
        pid: dead.pid,
        startTime: '1',
        reason: 'swarm updater for h1',
        acquiredAt: new Date(0).toISOString(),
      }),
    );
    const b = await s.start();
    assert.equal((await b.client.health()).status, 200);
    const lock = JSON.parse(await readFile(join(s.installDir, 'updater.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, b.process.child.pid);
    b.process.child.kill('SIGTERM');
    assert.equal((await b.process.exited).code, 0);
    await assert.rejects(readFile(join(s.installDir, 'updater.lock')), /ENOENT/, 'a graceful stop releases the lock');
  });
});
