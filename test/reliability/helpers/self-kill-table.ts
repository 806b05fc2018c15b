import { cp, mkdir, mkdtemp, readFile, readdir, readlink, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { packRelease } from '@swarm/bundle';
import { FAULT_ENV, SUPERVISOR_FAULT_POINTS, seedSelfRelease, type SupervisorFaultPoint } from '@swarm/supervisor';
import { stageSelfRelease } from '@swarm/updater';
import { brokenUpdaterRelease } from '../../e2e/helpers/release-trees.js';
import { cloneInstall, fixtureRelease, installTemplate, type KnownRelease } from './fixture.js';
import { incompleteFiles } from './invariants.js';
import type { Row } from './results.js';
import { freePort, pidAlive, readJournal, waitFor, type PkiFixture } from './package-helpers.js';
import { SupervisedHost, parentOf, type SelfPushAnswer } from './supervised-host.js';

/** The updater release of this installation, as `npm run build` writes it (scripts/bundle-updater.mjs). */
const DIST_SELF = fileURLToPath(new URL('../../../packages/updater/dist-self/', import.meta.url));

/**
 * `swarm updater` flags of every host of the table: the suite's fast timings, and a switch
 * deadline generous enough that a good updater is never taken for a broken one on a loaded
 * machine (a broken one here exits at once, so the fallback does not wait for it).
 */
const HOST_FLAGS = [
  '--healthy-for-ms', '300', '--probe-interval-ms', '50', '--stop-timeout-ms', '2000',
  '--health-check-interval-ms', '200', '--restart-backoff-ms', '100', '--restart-backoff-max-ms', '1000',
  '--self-update-deadline-ms', '20000',
]; // prettier-ignore

/** How long a case waits for a point to be reached, or for the host to settle. */
const CASE_TIMEOUT_MS = 60_000;

/** One row of the self-update table: kill at `point` during POST /update-self, and what must follow. */
export interface SelfKillCase {
  /** The fault point armed with SWARM_TEST_KILL_AT: an updater step's, or the supervisor's. */
  readonly point: string;
  /** A kill during recovery: the first supervisor dies at this point, the next one at `point`. */
  readonly firstKill?: SupervisorFaultPoint;
  /** The process the point kills. */
  readonly dies: 'updater' | 'supervisor';
  /**
   * False for a point the operation cannot reach: the row then proves it is not reached and
   * that the self-update ends as it would without the variable.
   */
  readonly reachable?: false;
  /** The updater release pushed: a good one, or one whose updater exits at once (the fallback runs). */
  readonly push: 'good' | 'broken';
  /** The master had its 202 (and the attempt id) before the kill. */
  readonly accepted: boolean;
  /** The updater that runs once the host has settled: the previous one, or the pushed one. */
  readonly runs: 'old' | 'new';
  /**
   * `lastSelfUpdate` names this attempt once settled — succeeded when the pushed updater runs,
   * failed otherwise. False: the attempt left no record (it never reached the journal).
   */
  readonly recorded: boolean;
}

/** The runner's steps that POST /update-self runs in the updater; their `before:`/`after:` points fire for it. */
export const SELF_UPDATE_STEPS = ['receive', 'verify', 'extract', 'switch'] as const;

/**
 * The table, with what each row must end in. Killing the updater before its 202 ends the
 * attempt unseen (the supervisor restarts it; the master saw the connection drop). A
 * supervisor killed with a switch journaled goes back to the previous updater when it starts
 * again and records the attempt failed (`interrupted`); once the success is journaled, the
 * new updater stays. The fallback rows push an updater that exits at once; the recovery row
 * kills the restarted supervisor again, half-way through undoing the switch.
 */
export const SELF_UPDATE_CASES: readonly SelfKillCase[] = [
  ...SELF_UPDATE_STEPS.flatMap((step) =>
    (['before', 'after'] as const).map((when): SelfKillCase => {
      const point = `${when}:${step}`;
      if (point !== 'after:switch') {
        return { point, dies: 'updater', push: 'good', accepted: false, runs: 'old', recorded: false };
      }
      // The switch step waits for the shutdown the supervisor's SIGTERM causes, and a step
      // aborted by a shutdown fails (runner.ts): it never completes, so `after:switch` is
      // never reached and the switch goes on as without the variable.
      return { point, dies: 'updater', reachable: false, push: 'good', accepted: true, runs: 'new', recorded: true };
    }),
  ),
  // Known gap (wiki/reliability.md): the 202 has left, the request is only in the
  // supervisor's memory; the master learns nothing until its own deadline.
  { point: 'supervisor:before:journal-switch', ...supervisorDies('good', 'old'), recorded: false },
  { point: 'supervisor:after:journal-switch', ...supervisorDies('good', 'old') },
  { point: 'supervisor:after:stop-old', ...supervisorDies('good', 'old') },
  { point: 'supervisor:after:flip', ...supervisorDies('good', 'old') },
  { point: 'supervisor:after:start-new', ...supervisorDies('good', 'old') },
  { point: 'supervisor:before:record', ...supervisorDies('good', 'old') },
  { point: 'supervisor:after:record', ...supervisorDies('good', 'new') },
  { point: 'supervisor:after:prune', ...supervisorDies('good', 'new') },
  { point: 'supervisor:before:stop-new', ...supervisorDies('broken', 'old') },
  { point: 'supervisor:before:fallback-flip', ...supervisorDies('broken', 'old') },
  { point: 'supervisor:after:fallback-flip', ...supervisorDies('broken', 'old') },
  { point: 'supervisor:after:fallback-record', ...supervisorDies('broken', 'old') },
  { point: 'supervisor:after:start-prev', ...supervisorDies('broken', 'old') },
  {
    point: 'supervisor:after:recover-flip',
    firstKill: 'supervisor:after:flip',
    ...supervisorDies('good', 'old'),
  },
];

function supervisorDies(push: 'good' | 'broken', runs: 'old' | 'new') {
  return { dies: 'supervisor' as const, push, accepted: true, runs, recorded: true };
}

/** Every fault point the self-update table covers. */
export const SELF_UPDATE_POINTS: readonly string[] = SELF_UPDATE_CASES.map((c) => c.point);

// Every supervisor point has a row (checked again against the source in the long table).
const missing = SUPERVISOR_FAULT_POINTS.filter((p) => !SELF_UPDATE_POINTS.includes(p));
if (missing.length > 0) throw new Error(`supervisor fault points without a row: ${missing.join(', ')}`);

/** The releases and templates the self-update cases start from (built once per test file). */
export interface SelfKillWorld {
  readonly fx: PkiFixture;
  /** The application release every host runs (its agent must survive every case). */
  readonly app: KnownRelease;
  /** An install directory with `app` committed. */
  readonly installTemplate: string;
  /** A self directory seeded with `old`, as `swarm updater --self-dir` seeds an empty one. */
  readonly selfTemplate: string;
  /** The updater release of this installation. */
  readonly old: KnownRelease;
  /** `old` with its version bumped: the release pushed by the `good` rows. */
  readonly good: KnownRelease;
  /** An updater that exits at once: the release pushed by the `broken` rows. */
  readonly broken: KnownRelease;
  /** Bumped again: the self-update that must succeed after every case. */
  readonly next: KnownRelease;
}

/** Build the releases and templates of the table. */
export async function createSelfKillWorld(fx: PkiFixture): Promise<SelfKillWorld> {
  const root = join(fx.root, 'self-kill');
  const trees = join(root, 'trees');
  // A private copy: others may rebuild dist-self (rm, then write) while the table runs.
  const oldTree = join(trees, 'old');
  await cp(DIST_SELF, oldTree, { recursive: true });
  for (const file of ['release.json', 'updater.mjs', 'extract-worker.js']) {
    await readFile(join(oldTree, file)).catch((err: Error) => {
      throw new Error(`${DIST_SELF} is incomplete: run \`node scripts/bundle-updater.mjs\` (${err.message})`);
    });
  }
  const manifest = JSON.parse(await readFile(join(oldTree, 'release.json'), 'utf8')) as { version: string };
  const [major, minor, patch] = manifest.version.split(/[.+-]/).map(Number);
  const bumped = async (name: string, version: string) => {
    const tree = join(trees, name);
    await cp(oldTree, tree, { recursive: true });
    await writeFile(join(tree, 'release.json'), `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
    return tree;
  };
  const pack = async (tree: string, name: string): Promise<KnownRelease> => {
    const packed = await packRelease({ tree, out: join(root, `${name}.tgz`) });
    return { ...packed, id: `${packed.version}-${packed.sha256.slice(0, 12)}`, tree };
  };
  const [goodTree, nextTree, brokenTree] = await Promise.all([
    bumped('good', `${major}.${minor}.${patch! + 1}`),
    bumped('next', `${major}.${minor}.${patch! + 2}`),
    brokenUpdaterRelease(join(trees, 'broken'), '9.9.9', 'exits'),
  ]);
  const [old, good, next, broken] = await Promise.all([
    pack(oldTree, 'old'),
    pack(goodTree, 'good'),
    pack(nextTree, 'next'),
    pack(brokenTree, 'broken'),
  ]);

  // Seed the self directory the way the CLI does on a first start (pack → stage → seed).
  const selfTemplate = join(root, 'self-template');
  await mkdir(selfTemplate, { recursive: true });
  const staged = await stageSelfRelease({
    selfDir: selfTemplate,
    tarball: old.file,
    sha256: old.sha256,
    limits: {},
    signal: new AbortController().signal,
  });
  await seedSelfRelease(selfTemplate, staged.id);

  const app = await fixtureRelease(join(root, 'app'), { version: '1.0.0' });
  return { fx, app, installTemplate: await installTemplate(fx, [app]), selfTemplate, old, good, broken, next };
}

/** What happened in one case: a row of the printed table. */
export interface SelfKillOutcome {
  readonly kase: SelfKillCase;
  /** What POST /update-self answered before the kill. */
  readonly answer: string;
  /** The armed process died by SIGKILL (false: the point was never reached). */
  readonly killed: boolean;
  /** Updater processes still running just after the supervisor died (none may stay). */
  readonly updatersAtKill: number;
  /** The updater version /health reports once settled. */
  readonly versionAfter: string;
  /** `lastSelfUpdate` once settled, in short. */
  readonly lastSelfUpdate: string;
  /** Violations of the invariants (empty: all held). */
  readonly problems: readonly string[];
  /** The next self-update succeeded (and left one updater, the agent untouched). */
  readonly nextOk: boolean;
  readonly ms: number;
}

/**
 * Run one case: a fresh host (copies of the templates) whose supervisor is armed with the
 * point, POST /update-self until the armed process SIGKILLs itself, then what production
 * does — the supervisor restarts a dead updater; systemd restarts a dead supervisor, at once
 * — and every invariant of wiki/reference/guarantees.md#self-update-never-strands-a-host once the host has settled; then an unarmed
 * supervisor and the next self-update.
 */
export async function runSelfKillCase(world: SelfKillWorld, kase: SelfKillCase): Promise<SelfKillOutcome> {
  const began = Date.now();
  const { fx } = world;
  const root = await mkdtemp(join(fx.root, 'self-case-'));
  const dirs = {
    root,
    selfDir: join(root, 'self'),
    installDir: await cloneInstall(fx, world.installTemplate),
    port: await freePort(),
    agentPort: await freePort(),
    log: join(root, 'host.log'),
  };
  await cp(world.selfTemplate, dirs.selfDir, { recursive: true, verbatimSymlinks: true });
  const host = new SupervisedHost(fx, dirs, HOST_FLAGS);
  const problems: string[] = [];
  const pushed = kase.push === 'good' ? world.good : world.broken;
  let agent: number | null = null;
  try {
    const armed = host.start({ [FAULT_ENV]: kase.firstKill ?? kase.point });
    const ready = await settle(host, 'the armed host to be up');
    agent = ready.health.agent.pid as number;
    const lastBefore = (await host.selfState()).lastSelfUpdate;

    const answer = await host.pushSelf(pushed);
    let killed: boolean;
    let atKill: number[] = [];
    if (kase.dies === 'supervisor') {
      killed = (await within(armed.exited, CASE_TIMEOUT_MS))?.signal === 'SIGKILL';
      if (killed && kase.firstKill) {
        // systemd brings it back; it dies again in its recovery.
        killed = (await within(host.start({ [FAULT_ENV]: kase.point }).exited, CASE_TIMEOUT_MS))?.signal === 'SIGKILL';
      }
      atKill = await host.updaters();
      if (!killed) await host.stop('SIGKILL');
      host.supervisor = null;
      host.start();
    } else if (kase.reachable === false) {
      // Nothing to wait for but the end of the switch; then the log must show no kill.
      const attempt = 'attempt' in answer ? answer.attempt : null;
      await waitFor(
        'the switch to be journaled',
        async () => {
          const state = await host.selfState();
          return state.switching === null && attempt !== null && state.lastSelfUpdate?.attempt === attempt;
        },
        CASE_TIMEOUT_MS,
        100,
      ).catch(() => undefined);
      killed = updaterKilled(await host.logLines());
    } else {
      killed = await waitFor(
        'the supervisor to see its updater die by SIGKILL',
        async () => updaterKilled(await host.logLines()),
        CASE_TIMEOUT_MS,
        100,
      ).catch(() => false);
    }
    if (kase.accepted !== (answer.status === 202)) {
      problems.push(`POST /update-self ${describeAnswer(answer)}, expected ${kase.accepted ? '202' : 'no answer'}`);
    }
    if (kase.reachable === false) {
      if (killed) problems.push(`the ${kase.dies} was killed at ${kase.point}, which should be unreachable`);
    } else if (!killed) {
      problems.push(`the ${kase.dies} was not killed at ${kase.point} (${describeAnswer(answer)})`);
    }

    const settled = await settle(host, 'the host to settle after the kill').catch((err: Error) => {
      problems.push(err.message);
      return null;
    });
    const state = await host.selfState();
    const expected = kase.runs === 'new' ? pushed : world.old;
    if (settled) {
      problems.push(
        ...(await checkSelfHost(host, world, {
          expected,
          updater: settled.updater,
          health: settled.health,
          agent,
          atKill,
          lastSelfUpdate: kase.recorded
            ? {
                outcome: kase.runs === 'new' ? 'succeeded' : 'failed',
                attempt: 'attempt' in answer ? answer.attempt : null,
                to: pushed.id,
              }
            : { unchanged: lastBefore },
        })),
      );
    }

    // The next self-update, with an unarmed supervisor (a dead updater's points are still
    // armed in the supervisor that restarted it: stop it the way systemd does).
    if (kase.dies === 'updater') {
      await host.stop('SIGTERM');
      const left = await waitFor(
        'a stopped supervisor’s updater to exit',
        async () => (await host.updaters()).length === 0,
        15_000,
      ).catch(() => false);
      if (!left)
        problems.push(`updaters still run after their supervisor stopped: ${(await host.updaters()).join(', ')}`);
      host.start();
    }
    const nextOk = await nextSelfUpdate(host, world, agent).catch((err: Error) => {
      problems.push(`next self-update: ${err.message}`);
      return false;
    });
    return {
      kase,
      answer: describeAnswer(answer),
      killed,
      updatersAtKill: atKill.length,
      versionAfter: settled ? String(settled.health.version) : '?',
      lastSelfUpdate: describeRecord(state.lastSelfUpdate, 'attempt' in answer ? answer.attempt : null),
      problems,
      nextOk,
      ms: Date.now() - began,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${dirs.log} ---\n${await host.logTail(30)}`, { cause: err });
  } finally {
    await teardown(host, agent);
  }
}

/** A row of the printed table. */
export function selfKillRow(o: SelfKillOutcome) {
  return {
    point: o.kase.firstKill ? `${o.kase.firstKill}, then ${o.kase.point}` : o.kase.point,
    kills: o.kase.dies,
    pushed: o.kase.push,
    answer: o.answer,
    killed: o.killed || (o.kase.reachable === false ? 'unreachable' : false),
    'updaters at kill': o.kase.dies === 'supervisor' ? o.updatersAtKill : null,
    'after restart': `${o.kase.runs} updater, ${o.versionAfter}`,
    lastSelfUpdate: o.lastSelfUpdate,
    'invariants ok': o.problems.length === 0,
    'next self-update ok': o.nextOk,
  };
}

/** The headline numbers of a self-update table, from its rows. */
export function selfKillSummary(rows: readonly Row[]): Record<string, number> {
  return {
    'fault points': new Set(rows.map((r) => r.point)).size,
    'cases run': rows.length,
    'kills survived': rows.filter((r) => r.killed === true && r['invariants ok'] && r['next self-update ok']).length,
    'points shown unreachable': rows.filter((r) => r.killed === 'unreachable' && r['invariants ok']).length,
  };
}

/** What the host must show once settled. */
interface Expectation {
  /** The updater release that must run. */
  readonly expected: KnownRelease;
  readonly updater: number;
  readonly health: any;
  /** The agent's PID before the case. */
  readonly agent: number | null;
  /** Updater processes alive when the supervisor died. */
  readonly atKill: readonly number[];
  /** The record this attempt must have left, or the record before it, unchanged. */
  readonly lastSelfUpdate:
    | { readonly outcome: string; readonly attempt: string | null; readonly to: string }
    | { readonly unchanged: unknown };
}

/**
 * The invariants of wiki/reference/guarantees.md#self-update-never-strands-a-host on a settled host, every violation returned:
 * - exactly one updater process runs (a child of the running supervisor), and none of those
 *   alive when a supervisor died survives it;
 * - `current` names the expected release, complete (every file of its tree), and the updater
 *   runs from that directory; the journal has it `active` and nothing `switching`;
 * - the self directory holds no staging directory, temporary link or file, and every release
 *   in it is complete;
 * - `/health` reports the expected version, and `lastSelfUpdate` as the journal has it —
 *   naming this attempt with the outcome that matches the running version;
 * - the agent kept running (same PID, from its release) and the install directory is as it
 *   was: same active release, nothing in flight, no staging;
 * - the self directory's lock names the running supervisor.
 */
async function checkSelfHost(host: SupervisedHost, world: SelfKillWorld, e: Expectation): Promise<string[]> {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const { selfDir, installDir } = host.dirs;
  const supervisor = host.supervisor!.pid;

  const updaters = await host.updaters();
  check(
    updaters.length === 1 && updaters[0] === e.updater,
    `updater processes: [${updaters}], expected [${e.updater}]`,
  );
  check((await parentOf(e.updater)) === supervisor, `updater ${e.updater} is not a child of supervisor ${supervisor}`);
  for (const pid of e.atKill) check(!(await pidAlive(pid)), `updater ${pid} outlived the supervisor that started it`);

  const id = e.expected.id;
  const state = await host.selfState();
  check(
    (await readlink(join(selfDir, 'current')).catch(() => null)) === `releases/${id}`,
    `self current is not releases/${id}`,
  );
  check(state.active === id, `self journal active is ${state.active}, expected ${id}`);
  check(state.switching === null, `self journal still has a switch in flight (to ${state.switching?.to})`);
  const dir = await realpath(join(selfDir, 'releases', id)).catch(() => '(missing)');
  check((await readlink(`/proc/${e.updater}/cwd`).catch(() => '')) === dir, `the updater does not run from ${dir}`);
  const known = [world.old, world.good, world.next, world.broken];
  for (const name of await readdir(join(selfDir, 'releases'))) {
    const release = known.find((r) => r.id === name);
    if (!release) {
      problems.push(`self releases/ holds ${name}, which is no complete release`);
      continue;
    }
    const bad = await incompleteFiles(join(selfDir, 'releases', name), release.tree);
    check(bad.length === 0, `self release ${name} is incomplete: ${bad.slice(0, 3).join(', ')}`);
  }
  const stray = (await readdir(selfDir)).filter((n) => n.startsWith('.') || n.endsWith('.tmp'));
  check(stray.length === 0, `temporary files left in the self directory: ${stray.join(', ')}`);

  check(e.health.version === e.expected.version, `/health reports ${e.health.version}, expected ${e.expected.version}`);
  check(
    isDeepStrictEqual(e.health.lastSelfUpdate, state.lastSelfUpdate),
    `/health lastSelfUpdate ${JSON.stringify(e.health.lastSelfUpdate)} is not the journal's`,
  );
  const last = state.lastSelfUpdate;
  if ('unchanged' in e.lastSelfUpdate) {
    check(isDeepStrictEqual(last, e.lastSelfUpdate.unchanged), `lastSelfUpdate changed: ${JSON.stringify(last)}`);
  } else {
    const want = e.lastSelfUpdate;
    check(
      last?.outcome === want.outcome && last?.attempt === want.attempt && last?.to === want.to,
      `lastSelfUpdate is ${last?.outcome} of ${last?.attempt} to ${last?.to}, expected ${want.outcome} of ${want.attempt} to ${want.to}`,
    );
  }

  check(
    e.agent !== null && e.health.agent?.pid === e.agent,
    `/health reports agent ${e.health.agent?.pid}, expected ${e.agent}`,
  );
  check(e.agent !== null && (await pidAlive(e.agent)), `the agent ${e.agent} died`);
  const appDir = await realpath(join(installDir, 'releases', world.app.id));
  check((await readlink(`/proc/${e.agent}/cwd`).catch(() => '')) === appDir, `the agent does not run from ${appDir}`);
  const journal = await readJournal(installDir);
  check(journal.inFlight === null, `the install journal has an operation in flight (${journal.inFlight?.kind})`);
  check(journal.active?.id === world.app.id, `the install journal's active is ${journal.active?.id}`);
  const staging = (await readdir(join(installDir, 'releases'))).filter((n) => n.startsWith('.'));
  check(staging.length === 0, `staging left in the install directory: ${staging.join(', ')}`);

  const lock = JSON.parse(await readFile(join(selfDir, 'supervisor.lock'), 'utf8').catch(() => '{}')) as {
    pid?: number;
  };
  check(lock.pid === supervisor, `supervisor.lock names ${lock.pid}, not the running supervisor ${supervisor}`);
  return problems;
}

/**
 * Wait until the host is settled: its supervisor runs, exactly one updater process runs and
 * is that supervisor's child, it answers /health, idle, with the agent running. An updater
 * orphaned by a dead supervisor keeps this from holding — if it never exits, the case fails
 * here, naming it.
 */
async function settle(host: SupervisedHost, what: string): Promise<{ updater: number; health: any }> {
  let last = '';
  try {
    return await waitFor(
      what,
      async () => {
        const supervisor = host.supervisor;
        if (!supervisor || supervisor.child.exitCode !== null || supervisor.child.signalCode !== null) {
          throw new Error(`the supervisor exited (${supervisor?.child.exitCode ?? supervisor?.child.signalCode})`);
        }
        const updaters = await host.updaters();
        last = `updaters [${updaters}]`;
        if (updaters.length !== 1 || (await parentOf(updaters[0]!)) !== supervisor.pid) return null;
        const health = await host.health().catch(() => null);
        last += `, /health ${health?.status}`;
        if (health?.status !== 200 || health.body.busy || !health.body.agent?.running) return null;
        return { updater: updaters[0]!, health: health.body };
      },
      CASE_TIMEOUT_MS,
      100,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${last}\n${await host.logTail(15)}`, { cause: err });
  }
}

/** Push `next` with an unarmed supervisor: it must be recorded a success, run alone, the agent untouched. */
async function nextSelfUpdate(host: SupervisedHost, world: SelfKillWorld, agent: number | null): Promise<boolean> {
  await settle(host, 'the unarmed host to be up');
  const answer = await host.pushSelf(world.next);
  if (answer.status !== 202 || !('attempt' in answer) || !answer.attempt) {
    throw new Error(`POST /update-self ${describeAnswer(answer)}`);
  }
  const attempt = answer.attempt;
  await waitFor(
    'the next self-update to be recorded',
    async () => (await host.health().catch(() => null))?.body?.lastSelfUpdate?.attempt === attempt,
    CASE_TIMEOUT_MS,
    100,
  );
  const { health } = await settle(host, 'the host to settle after the next self-update');
  const state = await host.selfState();
  return (
    health.version === world.next.version &&
    health.lastSelfUpdate?.outcome === 'succeeded' &&
    state.active === world.next.id &&
    state.switching === null &&
    health.agent.pid === agent
  );
}

/** Stop the host: its supervisor (gracefully, then for good), any updater, the agent's group. */
async function teardown(host: SupervisedHost, agent: number | null): Promise<void> {
  const supervisor = host.supervisor;
  if (supervisor) {
    const killer = setTimeout(() => supervisor.child.kill('SIGKILL'), 10_000);
    await host.stop('SIGTERM');
    clearTimeout(killer);
  }
  for (const pid of await host.updaters()) kill(pid);
  if (agent) kill(-agent);
  const recorded = await host.agentPid();
  if (recorded) kill(-recorded);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The supervisor logged the exit of an updater by SIGKILL (it restarted it, or was stopping it). */
function updaterKilled(lines: readonly any[]): boolean {
  return lines.some(
    // Only an updater that died on its own: one the supervisor itself SIGKILLs after its stop
    // grace (a slow stop on a loaded machine) is not a kill at a fault point.
    (l) => l.name === 'supervisor' && l.exit === 'SIGKILL' && /updater exited; restarting it/.test(String(l.msg)),
  );
}

/** `p`, or null once `ms` have passed. */
function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms))),
  ]);
}

function describeAnswer(answer: SelfPushAnswer): string {
  if (answer.status === null) return 'connection lost';
  return answer.status === 202 ? '202' : `${answer.status} ${answer.body?.code ?? ''}`.trim();
}

function describeRecord(record: any, attempt: string | null): string {
  if (!record) return 'none';
  const whose = attempt !== null && record.attempt === attempt ? 'this attempt' : 'an earlier one';
  const reason = typeof record.reason === 'string' ? record.reason : '';
  // Recovery's reason is one sentence for every point: its first word says it all.
  const short = reason.startsWith('interrupted') ? 'interrupted' : reason.slice(0, 60);
  return `${record.outcome} (${whose})${short ? `: ${short}` : ''}`;
}
