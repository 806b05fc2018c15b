// Issue 5 acceptance, end to end: `swarm update --include-self / --self-tarball` through the
// real CLI against real `swarm updater` processes (supervisor + updater + agent), broken
// updater releases the supervisor must fall back from, kill -9 of either process, and the
// packed updater release run with plain node.
//
// Two hosts: s1 keeps the default switch deadline (30 s) for the upgrades that must succeed,
// so a slow start on this loaded machine is not mistaken for a failure; s2 gets a short one
// (--self-update-deadline-ms), because a broken updater that never answers costs exactly
// that deadline. One fleet for the file; the tests run in order on the state left before.
// Assertions marked "Known failure (reported)" expose product bugs and fail until fixed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Fleet, freePort } from './helpers/fleet.js';
import { mtlsGet } from './helpers/mtls-get.js';
import { isAlive, processesUnder } from './helpers/processes.js';
import { agentRelease, brokenUpdaterRelease, type BrokenUpdater } from './helpers/release-trees.js';
import { outcomes, releaseIdOf, type PackJson, type RolloutJson } from './helpers/rollout-json.js';
import { waitFor } from './helpers/wait-for.js';

const SWITCH_DEADLINE_MS = 5000;
/** How long the slow-stop updater release waits before acting on SIGTERM. */
const SLOW_STOP_MS = 3000;
/**
 * The entry of the slow-stop updater release: the real updater, whose SIGTERM handlers run
 * SLOW_STOP_MS late, so the old updater keeps answering /health for a while after the 202.
 */
const SLOW_STOP_WRAPPER = `const once = process.once.bind(process);
process.once = (event, fn) => once(event, event === 'SIGTERM' ? (...a) => setTimeout(() => fn(...a), ${SLOW_STOP_MS}) : fn);
await import('./updater.mjs');
`;

/** The supervisor's journal, `<self-dir>/state.json`. */
interface SelfState {
  active: string | null;
  prev: string | null;
  switching: unknown;
  lastSelfUpdate: {
    outcome: string;
    from: string | null;
    to: string;
    version: string;
    reason?: string;
    finishedAt: string;
  } | null;
}

describe('self-update on a real fleet (issue 5)', () => {
  let fleet: Fleet;
  let swarmVersion: string;
  let bumped: string;
  const trees = { v1: '', v2: '', slow: '' };

  before(async () => {
    fleet = await Fleet.create({
      name: 'self',
      hosts: ['s1', 's2'],
      // s1: a stop grace long enough for the slow-stop updater (the suite's default is 2 s).
      updaterFlags: (host) =>
        host === 's2' ? ['--self-update-deadline-ms', String(SWITCH_DEADLINE_MS)] : ['--stop-timeout-ms', '10000'],
    });
    trees.v1 = await agentRelease(join(fleet.root, 'trees', 'v1'), '1.0.0');
    trees.v2 = await agentRelease(join(fleet.root, 'trees', 'v2'), '2.0.0');
    // An install that runs for seconds (then fails): an update to kill the updater in.
    trees.slow = await agentRelease(join(fleet.root, 'trees', 'slow'), '4.0.0', {
      install: ['sh', '-c', 'sleep 30; exit 1'],
    });
    swarmVersion = (await fleet.swarm(['--version'])).stdout.trim();
    const [major, minor, patch] = swarmVersion.split('.').map(Number);
    bumped = `${major}.${minor}.${patch! + 1}`;
    const res = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v1]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { s1: 'updated', s2: 'updated' });
  });
  after(async () => {
    await fleet?.close();
  });

  const selfState = async (host: string) =>
    JSON.parse(await readFile(join(fleet.host(host).selfDir, 'state.json'), 'utf8')) as SelfState;
  const currentSelf = async (host: string) =>
    (await readlink(join(fleet.host(host).selfDir, 'current'))).split('/').pop();
  /**
   * The agent `pid` is running and, once checked, healthy as the updater reports it: an
   * updater that just started reports an adopted agent unhealthy until its first check
   * (within a second, packages/updater/src/agent/agent-process.ts).
   */
  const agentHealthy = async (host: string, pid: number | null) => {
    const agent = await waitFor(`${host}'s updater to report its agent healthy`, async () => {
      const h = await fleet.health(host);
      return h.agent.healthy && h.agent;
    });
    assert.deepEqual(agent, { pid, running: true, healthy: true });
  };
  /** The supervisor's journal once it has recorded a switch that started after `since`. */
  const journaledSwitch = (host: string, since: string) =>
    waitFor(`${host}'s supervisor to journal the switch`, async () => {
      const state = await selfState(host);
      const finishedAt = state.lastSelfUpdate?.finishedAt;
      return state.switching === null && typeof finishedAt === 'string' && finishedAt >= since && state;
    });
  /** `swarm update --host HOST` of the app already there, forced, plus a self-update. */
  const selfUpdateArgs = (host: string, ...self: string[]) => [
    'update',
    '--host',
    host,
    '--tree',
    trees.v1,
    '--force',
    ...self,
  ];
  const packSelf = async (out: string) => {
    const res = await fleet.swarmJson<PackJson>(['pack', '--self', '-o', out]);
    assert.equal(res.code, 0, res.stderr);
    return res.json;
  };
  const packTree = async (tree: string, out: string) => {
    const res = await fleet.swarmJson<PackJson>(['pack', '--tree', tree, '-o', out]);
    assert.equal(res.code, 0, res.stderr);
    return res.json;
  };

  it("update --host s1 --include-self --force: a new updater on the master's version, the agent untouched (same PID)", async () => {
    const agent = await fleet.agentPid('s1');
    const updater = await fleet.updaterPid('s1');
    const startedAt = new Date().toISOString();

    const res = await fleet.swarmJson<RolloutJson>(selfUpdateArgs('s1', '--include-self'));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { s1: 'updated' });

    // Settled: a new updater process answers /health.
    const health = await waitFor('a new updater on s1 to answer /health', async () => {
      const pid = await fleet.updaterPid('s1').catch(() => null);
      return pid !== null && pid !== updater && (await fleet.health('s1'));
    });
    assert.equal(health.version, swarmVersion);
    assert.ok(agent !== null && (await isAlive(agent)));
    assert.equal(await fleet.agentPid('s1'), agent, 'the agent was not restarted');
    await agentHealthy('s1', agent);
    const state = await journaledSwitch('s1', startedAt);
    assert.equal(state.lastSelfUpdate!.outcome, 'succeeded');

    // Known failure (reported): the new updater reads lastSelfUpdate from state.json when it
    // starts, but the supervisor journals the success only after the new updater answered:
    // /health describes the switch before this one (here: none).
    const reported = (await fleet.health('s1')).lastSelfUpdate;
    assert.deepEqual(
      [reported?.outcome, reported?.to, reported?.finishedAt],
      ['succeeded', state.lastSelfUpdate!.to, state.lastSelfUpdate!.finishedAt],
      '/health lastSelfUpdate reports this switch',
    );
  });

  // s1 runs the seeded updater (the master's version).
  it('a same-version switch away from an updater slow to stop: the master reports `updated` only once the old one is gone', async () => {
    // An updater release of the master's version whose updater takes SLOW_STOP_MS to act on
    // SIGTERM (a graceful shutdown that takes its time; s1's --stop-timeout-ms allows it).
    const original = await packSelf(join(fleet.root, 'updater-same.tgz'));
    const tree = join(fleet.root, 'updater-slow-stop');
    await mkdir(tree);
    execFileSync('tar', ['xzf', original.file, '-C', tree]);
    await writeFile(join(tree, 'slow-stop.mjs'), SLOW_STOP_WRAPPER);
    const manifest = JSON.parse(await readFile(join(tree, 'release.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(tree, 'release.json'), JSON.stringify({ ...manifest, start: ['node', 'slow-stop.mjs'] }));
    const slowStop = await packTree(tree, join(fleet.root, 'updater-slow-stop.tgz'));
    assert.equal(slowStop.version, swarmVersion);

    const installedAt = new Date().toISOString();
    const install = await fleet.swarmJson<RolloutJson>(selfUpdateArgs('s1', '--self-tarball', slowStop.file));
    assert.equal(install.code, 0, install.stderr);
    assert.deepEqual((await journaledSwitch('s1', installedAt)).active, releaseIdOf(slowStop));
    await waitFor('the slow-stop updater to answer /health', () => fleet.health('s1'));
    const old = await fleet.updaterPid('s1');

    // Back to this installation's updater: same version, so only the new process proves it.
    const startedAt = new Date().toISOString();
    const res = await fleet.swarmJson<RolloutJson>(selfUpdateArgs('s1', '--include-self'));
    const oldAliveWhenReported = await isAlive(old);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { s1: 'updated' });
    const state = await journaledSwitch('s1', startedAt);
    assert.equal(state.lastSelfUpdate?.outcome, 'succeeded');
    assert.notEqual(state.active, releaseIdOf(slowStop));
    await waitFor('the new updater to answer /health', () => fleet.health('s1'));

    // Known failure (reported): the supervisor starts the new updater only once the old one
    // has exited, so a master that saw the new updater cannot return while the old one runs;
    // this one took the old updater's /health (same version) as proof of the switch.
    assert.equal(
      oldAliveWhenReported,
      false,
      `swarm update reported "updated" after ${res.json.results[0]!.durationMs} ms while the old updater ` +
        `(pid ${old}) was still running: success was read from the old updater's /health`,
    );
  });

  it('an updater release with a bumped version, built from `swarm pack --self`: /health reports it, the self dir keeps prev', async () => {
    // swarm pack --self → extract → bump release.json → swarm pack --tree.
    const original = await packSelf(join(fleet.root, 'updater.tgz'));
    assert.equal(original.version, swarmVersion);
    const tree = join(fleet.root, 'updater-bumped');
    await mkdir(tree);
    execFileSync('tar', ['xzf', original.file, '-C', tree]);
    const manifest = JSON.parse(await readFile(join(tree, 'release.json'), 'utf8')) as { version: string };
    await writeFile(join(tree, 'release.json'), JSON.stringify({ ...manifest, version: bumped }, null, 2));
    const release = await packTree(tree, join(fleet.root, 'updater-bumped.tgz'));
    assert.equal(release.version, bumped);

    const before = await selfState('s1');
    const agent = await fleet.agentPid('s1');
    const startedAt = new Date().toISOString();
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--host',
      's1',
      '--tree',
      trees.v1,
      '--self-tarball',
      release.file,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { s1: 'updated' });

    const health = await fleet.health('s1');
    assert.equal(health.version, bumped);
    const id = releaseIdOf(release);
    const state = await journaledSwitch('s1', startedAt);
    assert.deepEqual([state.active, state.prev, state.switching], [id, before.active, null]);
    assert.deepEqual([state.lastSelfUpdate?.outcome, state.lastSelfUpdate?.to], ['succeeded', id]);
    assert.equal(await currentSelf('s1'), id);
    // The running updater is the new code, from its own release directory.
    assert.equal(
      await readlink(`/proc/${await fleet.updaterPid('s1')}/cwd`),
      join(fleet.host('s1').selfDir, 'releases', id),
    );
    assert.equal(await fleet.agentPid('s1'), agent, 'the agent was not restarted');
    await agentHealthy('s1', agent);
    // Known failure (reported): /health's lastSelfUpdate is the one before (see the first test).
    assert.deepEqual(
      [health.lastSelfUpdate?.outcome, health.lastSelfUpdate?.from, health.lastSelfUpdate?.to],
      ['succeeded', before.active, id],
      '/health lastSelfUpdate shows this switch and the prev it came from',
    );
  });

  const broken: [BrokenUpdater, RegExp][] = [
    ['exits', /exited \(1\)/],
    ['never-listens', /deadline/],
    ['answers-500', /answered 500/],
  ];
  let app: 'v1' | 'v2' = 'v1';
  for (const [i, [kind, reason]] of broken.entries()) {
    it(`a broken updater release (${kind}): the previous updater is back, lastSelfUpdate and the master say why, /update works`, async () => {
      const tree = await brokenUpdaterRelease(join(fleet.root, `updater-${kind}`), `9.9.${i}`, kind);
      const release = await packTree(tree, join(fleet.root, `updater-${kind}.tgz`));
      const id = releaseIdOf(release);
      const before = await selfState('s2');
      const agent = await fleet.agentPid('s2');

      const res = await fleet.swarmJson<RolloutJson>([
        'update',
        '--host',
        's2',
        '--tree',
        trees[app],
        '--self-tarball',
        release.file,
      ]);
      assert.equal(res.code, 1, res.stderr);
      assert.deepEqual(outcomes(res.json), { s2: 'failed' });
      const error = res.json.results[0]!.error;
      assert.equal(error?.code, 'SWARM_ERR_SELF_UPDATE_FAILED');
      assert.match(error!.message, reason);

      // The master decided from /health, so the previous updater answers again by now.
      const health = await fleet.health('s2');
      assert.equal(health.version, swarmVersion);
      assert.equal(health.lastSelfUpdate?.outcome, 'failed');
      assert.equal(health.lastSelfUpdate?.to, id);
      assert.match(String(health.lastSelfUpdate?.reason), reason);
      const state = await selfState('s2');
      assert.deepEqual([state.active, state.switching], [before.active, null]);
      assert.equal(await currentSelf('s2'), before.active);
      assert.equal(await fleet.agentPid('s2'), agent, 'the agent kept running');
      await agentHealthy('s2', agent);

      // A following /update works.
      app = app === 'v1' ? 'v2' : 'v1';
      const next = await fleet.swarmJson<RolloutJson>(['update', '--host', 's2', '--tree', trees[app]]);
      assert.equal(next.code, 0, next.stderr);
      assert.deepEqual(outcomes(next.json), { s2: 'updated' });
      assert.equal(next.json.results[0]!.release?.version, app === 'v1' ? '1.0.0' : '2.0.0');
    });
  }

  // s1 runs the bumped updater from here on.
  it('kill -9 of the updater (not the supervisor): the supervisor starts it again, same version, same agent', async () => {
    const updater = await fleet.updaterPid('s1');
    const agent = await fleet.agentPid('s1');
    process.kill(updater, 'SIGKILL');
    const restarted = await waitFor('the supervisor to start a new updater that answers /health', async () => {
      const pid = await fleet.updaterPid('s1').catch(() => null);
      return pid !== null && pid !== updater && (await fleet.health('s1')) && pid;
    });
    assert.ok(await isAlive(restarted));
    const health = await fleet.health('s1');
    assert.equal(health.version, bumped);
    await agentHealthy('s1', agent);
  });

  // s1 on app v1, with the bumped updater.
  it('kill -9 of the updater in the middle of an update: restarted, it undoes the update and a following one works', async () => {
    const updater = await fleet.updaterPid('s1');
    const agent = await fleet.agentPid('s1');
    const before = await fleet.health('s1');
    const pending = fleet.swarmJson<RolloutJson>(['update', '--host', 's1', '--tree', trees.slow]);
    await waitFor('s1 to be busy installing the slow release', async () => (await fleet.health('s1')).busy);
    const install = await waitFor('the install command to run', async () => {
      const pids = (await processesUnder(join(fleet.host('s1').installDir, 'releases'))).filter((p) => p !== agent);
      return pids.length > 0 && pids;
    });
    process.kill(updater, 'SIGKILL');

    const res = await pending;
    assert.equal(res.code, 1, res.stderr);
    assert.deepEqual(
      outcomes(res.json),
      { s1: 'failed' },
      'the master never guesses success from a dropped connection',
    );

    const health = await waitFor('a restarted updater on s1, done recovering', async () => {
      const pid = await fleet.updaterPid('s1').catch(() => null);
      const h = pid !== null && pid !== updater && (await fleet.health('s1'));
      return h && !h.busy && h;
    });
    assert.equal(health.version, bumped);
    assert.deepEqual([health.active?.id, health.prev?.id], [before.active?.id, before.prev?.id]);
    assert.deepEqual(
      [health.lastUpdate?.outcome, (health.lastUpdate?.release as { version?: string } | null)?.version],
      ['interrupted', '4.0.0'],
    );
    await agentHealthy('s1', agent);
    // Recovery killed the orphaned install command; only the agent runs from the releases.
    for (const pid of install) assert.equal(await isAlive(pid), false, `install process ${pid} still runs`);
    assert.deepEqual(await processesUnder(join(fleet.host('s1').installDir, 'releases')), [agent]);

    const next = await fleet.swarmJson<RolloutJson>(['update', '--host', 's1', '--tree', trees.v2]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(outcomes(next.json), { s1: 'updated' });
  });

  it('kill -9 of the supervisor: its updater goes too, the agent stays; `swarm updater` again with the same flags is consistent', async () => {
    const updater = await fleet.updaterPid('s1');
    const agent = await fleet.agentPid('s1');
    const before = await fleet.health('s1');
    const stateBefore = await selfState('s1');

    await fleet.stop('s1', 'SIGKILL');
    // An updater never outlives its supervisor (it exits when the IPC channel closes).
    await waitFor('the orphaned updater to exit', async () => !(await isAlive(updater)), { timeoutMs: 15_000 });
    assert.ok(agent !== null && (await isAlive(agent)), 'the agent keeps serving without an updater');

    await fleet.start('s1');
    const health = await fleet.health('s1');
    assert.equal(health.version, bumped);
    assert.deepEqual([health.active?.id, health.prev?.id], [before.active?.id, before.prev?.id]);
    assert.equal(health.agent.pid, agent, 'the restarted updater adopted the running agent');
    assert.equal(await fleet.agentPid('s1'), agent);
    await waitFor('the adopted agent to be reported healthy', async () => (await fleet.health('s1')).agent.healthy);
    const state = await selfState('s1');
    assert.deepEqual([state.active, state.prev, state.switching], [stateBefore.active, stateBefore.prev, null]);
  });

  it('the updater release extracted in a temp dir with no node_modules runs with plain node and answers /health over mTLS', async () => {
    const packed = await packSelf(join(fleet.root, 'plain.tgz'));
    const dir = join(fleet.root, 'plain', 'updater');
    await mkdir(dir, { recursive: true });
    execFileSync('tar', ['xzf', packed.file, '-C', dir]);
    const files = await readdir(dir, { recursive: true });
    assert.ok(files.includes('updater.mjs'), files.join(', '));
    assert.deepEqual(
      files.filter((f) => f.split('/').includes('node_modules')),
      [],
    );
    for (let d = dir; d !== dirname(d); d = dirname(d)) {
      assert.equal(existsSync(join(d, 'node_modules')), false, `${d}/node_modules would make this test prove nothing`);
    }

    const port = await freePort();
    const s1 = fleet.host('s1');
    const updater = fleet.spawn(
      process.execPath,
      [
        'updater.mjs',
        '--bundle',
        s1.bundle,
        '--install-dir',
        join(fleet.root, 'plain', 'app'),
        '--listen',
        `127.0.0.1:${port}`,
      ],
      // Plain node: no tsx loader, no NODE_PATH, nothing of this repository's environment.
      { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: fleet.root } },
    );
    const res = await waitFor('the extracted updater to answer /health', async () => {
      if (updater.child.exitCode !== null) throw new Error(`it exited: ${(await updater.done).stderr}`);
      return mtlsGet(fleet.identity, port, '/health').catch(() => undefined);
    });
    assert.equal(res.status, 200);
    const body = res.body as { role: string; host: string; version: string; active: unknown };
    assert.deepEqual([body.role, body.host, body.version, body.active], ['updater', 's1', swarmVersion, null]);
    updater.child.kill('SIGTERM');
    const end = await updater.done;
    assert.equal(end.code, 0, `graceful stop on SIGTERM: ${end.stderr}`);
  });
});
