import { join } from 'node:path';
import { ACTIVATE_STEPS, FAULT_ENV, ROLLBACK_STEPS, STAGE_STEPS, UPDATE_STEPS } from '@swarm/updater';
import {
  cloneInstall,
  fixtureRelease,
  installTemplate,
  startInProcess,
  startProcess,
  type KnownRelease,
} from './fixture.js';
import { checkHost, type HostExpectation } from './invariants.js';
import { freePort, readJournal, type PkiFixture } from './package-helpers.js';

/**
 * The operations the kill table covers: an update over a committed release (`update`), the
 * very first update of a host (`first-install`: nothing to fall back to), a rollback, a stage
 * (`stage`: v2 staged beside the active v1) and the activation of a staged release.
 */
export type KillOperation = 'update' | 'first-install' | 'rollback' | 'stage' | 'activate';

/** One row of the table: kill the updater at `point` while it runs `operation`. */
export interface KillCase {
  readonly operation: KillOperation;
  readonly point: string;
}

/**
 * The `during:<step>` points, where a step is killed half-way: the first bytes of an upload
 * on their way to disk (routes/upload-routes.ts), the install command just spawned
 * (operations/update-operation.ts), the new agent’s first health check (operations/agent-steps.ts).
 */
const DURING: Readonly<Record<string, string>> = {
  receive: 'during:receive',
  install: 'during:install',
  probe: 'during:probe',
};

/** Every fault point of a plan, in the order the operation reaches them. */
export function faultPointsOf(steps: readonly string[]): string[] {
  return steps.flatMap((s) => [`before:${s}`, ...(DURING[s] ? [DURING[s]] : []), `after:${s}`]);
}

/**
 * Every fault point of update and rollback (the runner's `before:`/`after:` of each step, plus
 * `during:`). Self-update has its own table (self-kill-table.ts): it needs a supervisor.
 */
export const UPDATE_POINTS = faultPointsOf(UPDATE_STEPS);
export const ROLLBACK_POINTS = faultPointsOf(ROLLBACK_STEPS);
export const STAGE_POINTS = faultPointsOf(STAGE_STEPS);
export const ACTIVATE_POINTS = faultPointsOf(ACTIVATE_STEPS);

/** Kills after these points find the operation committed: recovery keeps it. */
const COMMITTED_AT: Readonly<Record<KillOperation, ReadonlySet<string>>> = {
  update: new Set(['after:commit', 'before:prune', 'after:prune']),
  'first-install': new Set(['after:commit', 'before:prune', 'after:prune']),
  rollback: new Set(['after:commit']),
  stage: new Set(['after:commit']),
  activate: new Set(['after:commit', 'before:prune', 'after:prune']),
};

/** Every case of the full table. */
export function allKillCases(): KillCase[] {
  return [
    ...UPDATE_POINTS.map((point) => ({ operation: 'update' as const, point })),
    ...UPDATE_POINTS.map((point) => ({ operation: 'first-install' as const, point })),
    ...ROLLBACK_POINTS.map((point) => ({ operation: 'rollback' as const, point })),
    ...STAGE_POINTS.map((point) => ({ operation: 'stage' as const, point })),
    ...ACTIVATE_POINTS.map((point) => ({ operation: 'activate' as const, point })),
  ];
}

/** The releases and templates the kill cases start from (built once per test file). */
export interface KillWorld {
  readonly fx: PkiFixture;
  /** Committed before an `update` (prev, then active: the update prunes v0). */
  readonly v0: KnownRelease;
  readonly v1: KnownRelease;
  /** The release pushed by `update` and `first-install`; it has an `install` step. */
  readonly v2: KnownRelease;
  /** The next update after the restart. */
  readonly v3: KnownRelease;
  /** Install directories to copy: empty, [v0, v1] committed, [v1, v2] committed, [v0, v1] with v2 staged. */
  readonly templates: Readonly<Record<KillOperation, string>>;
}

/** What happened in one case: a row of the printed table. */
export interface KillOutcome {
  readonly operation: KillOperation;
  readonly point: string;
  /** The process died by SIGKILL at the point (false: the point was never reached). */
  readonly killed: boolean;
  /** The journal's phase at the kill (`committed` when nothing was in flight any more). */
  readonly phaseAtKill: string;
  /** What the restarted updater made of it: `reverted`, `completed`, `kept` (committed). */
  readonly recovery: string;
  /** The active release after the restart. */
  readonly activeAfter: string;
  /** Violations of the invariants after the restart (empty: all held). */
  readonly problems: readonly string[];
  /** The next update after the restart succeeded (200, new release running). */
  readonly nextUpdateOk: boolean;
  /** A release still staged after the restart was activated (200): null when none was staged. */
  readonly stagedUsable: boolean | null;
}

/**
 * Run one case: copy the operation's template, start an updater process armed with
 * SWARM_TEST_KILL_AT=<point>, run the operation until the process SIGKILLs itself, restart
 * the updater (in this process: the same recovery code, without a second process start),
 * check every invariant, then push the next release and check again.
 */
export async function runKillCase(world: KillWorld, kase: KillCase): Promise<KillOutcome> {
  const { fx, v0, v1, v2, v3 } = world;
  const installDir = await cloneInstall(fx, world.templates[kase.operation]);
  const agentPort = await freePort();
  const armed = await startProcess(fx, installDir, agentPort, { [FAULT_ENV]: kase.point });
  const answer =
    kase.operation === 'rollback'
      ? armed.client.call('/rollback', { method: 'POST' })
      : kase.operation === 'stage'
        ? armed.client.pushParts(uploadParts(v2), { path: '/stage' })
        : kase.operation === 'activate'
          ? armed.client.call('/activate', activateBody(v2))
          : armed.client.push(v2);
  const settled = await answer.then(
    (a) => `answered ${a.status}`,
    () => 'connection lost',
  );
  const exit = await Promise.race([
    armed.process.exited,
    // A point that is never reached leaves the process alive: stop it and report.
    new Promise<null>((resolve) => setTimeout(() => resolve(null), settled.startsWith('answered') ? 2_000 : 30_000)),
  ]);
  const killed = exit?.signal === 'SIGKILL';
  if (!exit) {
    armed.process.child.kill('SIGKILL');
    await armed.process.exited;
  }
  const atKill = await readJournal(installDir);
  const phaseAtKill: string = atKill.inFlight?.phase ?? 'committed';

  const committed = COMMITTED_AT[kase.operation].has(kase.point);
  const expected = expectation(kase, committed, phaseAtKill, { v0, v1, v2 });
  const restarted = await startInProcess(fx, installDir, agentPort);
  let problems: string[];
  let nextUpdateOk = false;
  let stagedUsable: boolean | null = null;
  try {
    problems = await checkHost({ installDir, agentPort, client: restarted.client }, expected);
    if (!killed) problems.unshift(`the point was not reached (${settled})`);
    if (expected.staged) {
      // A complete staged release survives the kill: it can be activated as it is.
      const activated = await restarted.client.call('/activate', activateBody(expected.staged));
      stagedUsable =
        activated.status === 200 &&
        (
          await checkHost(
            { installDir, agentPort, client: restarted.client },
            { active: expected.staged, staged: null },
          )
        ).length === 0;
    }
    const next = await restarted.client.push(v3);
    nextUpdateOk =
      next.status === 200 &&
      (await checkHost({ installDir, agentPort, client: restarted.client }, { active: v3 })).length === 0;
  } finally {
    await restarted.close();
  }
  const last = (await readJournal(installDir)).history.at(-2);
  return {
    operation: kase.operation,
    point: kase.point,
    killed,
    phaseAtKill,
    recovery: committed ? 'kept' : (last?.recovery ?? '?'),
    activeAfter: expected.active?.version ?? 'none',
    problems,
    nextUpdateOk,
    stagedUsable,
  };
}

/** The multipart parts of an upload of `release`. */
function uploadParts(release: KnownRelease) {
  return [
    { name: 'sha256', value: release.sha256 },
    { name: 'size', value: String(release.size) },
    { name: 'tarball', filename: 'release.tgz', path: release.file },
  ];
}

/** The request of POST /activate for `release`. */
function activateBody(release: KnownRelease) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sha256: release.sha256 }),
  };
}

function expectation(
  kase: KillCase,
  committed: boolean,
  phaseAtKill: string,
  r: { v0: KnownRelease; v1: KnownRelease; v2: KnownRelease },
): HostExpectation {
  const interrupted = (recovery: string) => ({ outcome: 'interrupted', recovery, phase: phaseAtKill });
  switch (kase.operation) {
    case 'update':
      return committed
        ? { active: r.v2, prev: r.v1, last: { outcome: 'updated' } }
        : { active: r.v1, prev: r.v0, last: interrupted('reverted') };
    case 'first-install':
      return committed
        ? { active: r.v2, prev: null, last: { outcome: 'updated' } }
        : { active: null, prev: null, last: interrupted('reverted') };
    case 'rollback':
      // A rollback's target is committed code the operator asked for: once `current` names it,
      // recovery completes it. Killed before the flip, there is nothing to complete.
      if (committed) return { active: r.v1, prev: r.v2, last: { outcome: 'rolled_back' } };
      return kase.point === 'before:activate'
        ? { active: r.v2, prev: r.v1, last: interrupted('reverted') }
        : { active: r.v1, prev: r.v2, last: interrupted('completed') };
    case 'stage':
      // `current` and the agent never move; the stage is there complete, or not at all.
      return committed
        ? { active: r.v1, prev: r.v0, staged: r.v2, last: { outcome: 'staged' } }
        : { active: r.v1, prev: r.v0, staged: null, last: interrupted('reverted') };
    case 'activate':
      // Undone: v1 back, and v2 still staged, ready for the next activation.
      return committed
        ? { active: r.v2, prev: r.v1, staged: null, last: { outcome: 'updated' } }
        : { active: r.v1, prev: r.v0, staged: r.v2, last: interrupted('reverted') };
  }
}

/** Build the releases and templates of the kill table. */
export async function createKillWorld(fx: PkiFixture): Promise<KillWorld> {
  const root = join(fx.root, 'kill-releases');
  const [v0, v1, v2, v3] = await Promise.all([
    fixtureRelease(root, { version: '0.9.0' }),
    fixtureRelease(root, { version: '1.0.0' }),
    // An install step, so that the install points are reached.
    fixtureRelease(root, {
      version: '2.0.0',
      install: ['node', '-e', "require('fs').writeFileSync('installed.txt', 'yes')"],
    }),
    fixtureRelease(root, { version: '3.0.0' }),
  ]);
  const [update, firstInstall, rollback, activate] = await Promise.all([
    installTemplate(fx, [v0, v1]),
    installTemplate(fx, []),
    installTemplate(fx, [v1, v2]),
    installTemplate(fx, [v0, v1], v2),
  ]);
  return {
    fx,
    v0,
    v1,
    v2,
    v3,
    templates: { update, 'first-install': firstInstall, rollback, stage: update, activate },
  };
}

/** A row of the printed table. */
export function killRow(o: KillOutcome) {
  return {
    operation: o.operation,
    point: o.point,
    killed: o.killed,
    'phase at kill': o.phaseAtKill,
    'after restart': `${o.recovery}, active ${o.activeAfter}`,
    'invariants ok': o.problems.length === 0,
    'next update ok': o.nextUpdateOk,
    'staged usable': o.stagedUsable ?? '-',
  };
}
