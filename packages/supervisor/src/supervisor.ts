import type { ChildProcess } from 'node:child_process';
import { isErrorCode, reviveError, swarmError, type SwarmError } from '@swarm/errors';
import type { Logger } from '@swarm/log';
import { faultPoint } from './fault-point.js';
import { waitForVersion, type HealthEndpoint } from './health-check.js';
import { findUpdaterProcesses, stopOrphanedUpdaters } from './orphaned-updaters.js';
import { acquireSelfLock } from './self-lock.js';
import { isRunning, pointCurrentAt, readCurrent, releaseDir, removeStaging } from '@swarm/release-dir';
import { pruneReleases, readSelfState, selfDirPaths, writeSelfState, type SelfState } from './self-dir.js';
import {
  SELF_UPDATE_RECORD_ENV,
  encodeSelfUpdateRecord,
  isSelfUpdateRequest,
  selfUpdateRecordMessage,
  type SelfUpdateRequest,
  type StartFailureReport,
  type SwitchRecord,
} from '@swarm/protocol';
import { exited, startUpdaterProcess, stopProcess, watchStartFailure } from './updater-process.js';

/** Options of {@link runSupervisor}. */
export interface SupervisorOptions {
  /** The self directory; `current` must already point at a release (see the CLI's seeding). */
  readonly selfDir: string;
  /** Flags for every updater it starts (the `swarm updater` flags). */
  readonly updaterArgs: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Where the new updater must answer `GET /health` with its version. */
  readonly health: HealthEndpoint;
  /** How long a new updater has to come up (default 30 s). */
  readonly switchDeadlineMs?: number;
  /** SIGTERM grace before SIGKILL when stopping an updater (default 10 s). */
  readonly stopGraceMs?: number;
  /** Updater releases retained (default 2: active and prev). */
  readonly keep?: number;
  readonly log: Logger;
  /** Stop supervising: the updater is stopped, the agent keeps running. */
  readonly signal?: AbortSignal;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** An updater that ran this long is considered stable: the crash backoff starts over. */
const STABLE_MS = 60_000;
/** The exit status of a refusal to start: usage or configuration error (wiki/reference/cli.md). */
const REFUSED_EXIT = 2;

/**
 * The supervisor: the bootloader of a worker's updater, and the only part a self-update
 * does not replace. It runs the updater from `<self-dir>/current`, restarts it when it
 * crashes, and performs self-updates:
 *
 * INVARIANTS
 * - Exactly one updater process runs at a time (the old one has exited before the new starts;
 *   at start, updaters a dead supervisor left running are stopped before any other starts).
 * - `current` always names a complete release: the running updater verified and extracted
 *   the new release before asking for the switch; the flip is one rename(2).
 * - A switch is journaled (`switching`) before the flip and cleared only once the new
 *   updater answered `/health` with its version, or the old one is back: a supervisor killed
 *   mid-switch goes back to the old release when it starts again.
 * - If the new updater does not come up within the deadline, the previous one is started
 *   again and `lastSelfUpdate` records the failure and its reason (wiki/reference/guarantees.md#self-update-never-strands-a-host).
 * - The agent is never touched: it runs in its own process group; each updater adopts it.
 * - An updater that exits 2 refused to start (its configuration, or another live updater owns
 *   the install directory: wiki/reference/guarantees.md#one-operation-at-a-time) and is not restarted: the supervisor rejects with
 *   its error. The one exception is the lock held by an updater of this self directory that
 *   a previous supervisor left running (stopped, then the updater is started again).
 */
export async function runSupervisor(options: SupervisorOptions): Promise<void> {
  const paths = selfDirPaths(options.selfDir);
  const log = options.log;
  const grace = options.stopGraceMs ?? 10_000;
  const lock = await acquireSelfLock(paths.lock);
  /** For each updater started, what it reported if it failed to start. */
  const lastWords = new WeakMap<ChildProcess, () => Promise<StartFailureReport['error'] | null>>();
  try {
    // Before anything else: no updater of a dead supervisor may run alongside ours.
    await stopOrphanedUpdaters(paths, grace, log);
    let state = await recoverInterruptedSwitch(paths, await readSelfState(paths), log);
    let backoff = MIN_BACKOFF_MS;
    let child: ChildProcess | null = null;
    let startedAt = 0;
    while (!options.signal?.aborted) {
      if (!child) {
        const id = await readCurrent(paths);
        if (!id) throw new Error(`${paths.current} does not exist: the self directory was not seeded`);
        child = await start(id);
        startedAt = Date.now();
      }
      const event = await nextEvent(child, options.signal);
      if (event.type === 'abort') break;
      if (event.type === 'self-update') {
        ({ child, state } = await selfUpdate(child, event.request, state));
        startedAt = Date.now();
        backoff = MIN_BACKOFF_MS;
        continue;
      }
      // The updater died on its own: restart it, backing off while it keeps dying.
      const failed = child;
      child = null;
      if (event.exit === REFUSED_EXIT) {
        const refused = await refusal(failed);
        if (refused) {
          const owner = refused.code === 'SWARM_ERR_UPDATER_LOCKED' ? refused.details.pid : undefined;
          log.error(
            { code: refused.code, updater: failed.pid, owner },
            'the updater refused to start; not restarting it',
          );
          throw refused;
        }
      }
      if (Date.now() - startedAt > STABLE_MS) backoff = MIN_BACKOFF_MS;
      log.warn({ exit: event.exit, restartInMs: backoff }, 'updater exited; restarting it');
      await sleep(backoff, options.signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    if (child) await stopProcess(child, grace);
  } finally {
    await lock.release();
  }

  /**
   * The updater `failed` exited 2. Returns the error the supervisor ends with: the updater's
   * own, as it reported it over the IPC channel (SWARM_ERR_UPDATER_LOCKED names the owner's
   * PID). Returns null — start it again — only when the lock it found is, or was, transient:
   * - its owner is an updater of this self directory (found in /proc: run from one of our
   *   releases with our `--self-dir`), which can only be one a previous supervisor left
   *   running, as ours has exited: it is stopped, as at start;
   * - its owner has exited meanwhile: the install directory is free now.
   * Any other live owner is a second `swarm updater` (another self directory, or none) that
   * owns the install directory: restarting would only wait on it forever (issue 12).
   */
  async function refusal(failed: ChildProcess): Promise<SwarmError | null> {
    const report = await lastWords.get(failed)?.();
    if (report && isErrorCode(report.code)) {
      const error = reviveError(report);
      const owner = error.details.pid;
      if (error.code !== 'SWARM_ERR_UPDATER_LOCKED' || typeof owner !== 'number') return error;
      if ((await findUpdaterProcesses(paths)).includes(owner)) {
        log.warn({ owner }, 'an updater left by a previous supervisor holds the install directory');
        await stopOrphanedUpdaters(paths, grace, log);
        return null;
      }
      // Released meanwhile; else a second `swarm updater` (not ours) owns the directory.
      return (await isRunning(owner)) ? error : null;
    }
    // An updater release older than the report (or one that died before sending it): the
    // exit status alone. Only an orphan of this self directory can make it transient.
    if ((await stopOrphanedUpdaters(paths, grace, log)).length > 0) return null;
    const said = typeof report?.message === 'string' ? `: ${report.message}` : ' (its error is logged above)';
    return swarmError(
      'SWARM_ERR_CONFIG_INVALID',
      `the updater (PID ${failed.pid}) refused to start with exit status ${REFUSED_EXIT}${said}; not restarting it`,
      { pid: failed.pid, exit: REFUSED_EXIT },
    );
  }

  /** Start the updater of release `id`. No updater of this self directory runs when it is called. */
  async function start(id: string): Promise<ChildProcess> {
    // So this is the moment to clear what an updater killed mid-staging left behind.
    const removed = await removeStaging(paths);
    if (removed.length > 0) log.warn({ removed }, 'removed staging left by an interrupted self-update');
    // The updater reports the last self-update in /health; the journal it comes from is ours.
    const { lastSelfUpdate } = await readSelfState(paths);
    const child = await startUpdaterProcess({
      releaseDir: releaseDir(paths, id),
      args: options.updaterArgs,
      env: { ...options.env, [SELF_UPDATE_RECORD_ENV]: encodeSelfUpdateRecord(lastSelfUpdate) },
    });
    lastWords.set(child, watchStartFailure(child));
    log.info({ release: id, pid: child.pid }, 'updater started');
    return child;
  }

  /** Stop `old`, flip to the new release, prove it, or fall back. Returns the updater now running. */
  async function selfUpdate(
    old: ChildProcess,
    request: SelfUpdateRequest,
    before: SelfState,
  ): Promise<{ child: ChildProcess; state: SelfState }> {
    const from = await readCurrent(paths);
    const startedAt = new Date().toISOString();
    log.info({ from, to: request.id, version: request.version }, 'self-update: switching updater');
    faultPoint('supervisor:before:journal-switch');
    await writeSelfState(paths, {
      ...before,
      switching: { from, to: request.id, version: request.version, attempt: request.attempt, startedAt },
    });
    faultPoint('supervisor:after:journal-switch');
    log.info({ exit: await stopProcess(old, grace) }, 'self-update: the old updater stopped');
    faultPoint('supervisor:after:stop-old');
    await pointCurrentAt(paths, request.id);
    faultPoint('supervisor:after:flip');
    const next = await start(request.id);
    faultPoint('supervisor:after:start-new');
    const reason = await waitForVersion(
      options.health,
      request.version,
      options.switchDeadlineMs ?? 30_000,
      exited(next),
    );
    const record = { from, to: request.id, version: request.version, attempt: request.attempt, startedAt };
    if (reason === null) {
      const succeeded: SwitchRecord = { ...record, outcome: 'succeeded', finishedAt: new Date().toISOString() };
      const state: SelfState = { active: request.id, prev: from, switching: null, lastSelfUpdate: succeeded };
      faultPoint('supervisor:before:record');
      await writeSelfState(paths, state);
      faultPoint('supervisor:after:record');
      // The new updater was started before this record existed: hand it over.
      if (next.connected) next.send(selfUpdateRecordMessage(succeeded));
      await pruneReleases(paths, state, options.keep ?? 2);
      faultPoint('supervisor:after:prune');
      log.info({ to: request.id }, 'self-update succeeded');
      return { child: next, state };
    }
    log.error({ to: request.id, reason }, 'self-update failed; starting the previous updater again');
    faultPoint('supervisor:before:stop-new');
    await stopProcess(next, grace);
    faultPoint('supervisor:before:fallback-flip');
    if (from) await pointCurrentAt(paths, from);
    faultPoint('supervisor:after:fallback-flip');
    const state: SelfState = {
      active: from,
      prev: before.prev,
      switching: null,
      lastSelfUpdate: { ...record, outcome: 'failed', reason, finishedAt: new Date().toISOString() },
    };
    await writeSelfState(paths, state);
    faultPoint('supervisor:after:fallback-record');
    const previous = from ? await start(from) : next;
    faultPoint('supervisor:after:start-prev');
    return { child: previous, state };
  }
}

type Event =
  | { type: 'abort' }
  | { type: 'exit'; exit: number | NodeJS.Signals }
  | { type: 'self-update'; request: SelfUpdateRequest };

function nextEvent(child: ChildProcess, signal: AbortSignal | undefined): Promise<Event> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (isSelfUpdateRequest(message)) finish({ type: 'self-update', request: message });
    };
    const onAbort = () => finish({ type: 'abort' });
    const finish = (event: Event) => {
      child.off('message', onMessage);
      signal?.removeEventListener('abort', onAbort);
      resolve(event);
    };
    child.on('message', onMessage);
    void exited(child).then((exit) => finish({ type: 'exit', exit }));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function recoverInterruptedSwitch(
  paths: ReturnType<typeof selfDirPaths>,
  state: SelfState,
  log: Logger,
): Promise<SelfState> {
  const switching = state.switching;
  if (!switching) return state;
  log.warn({ switching }, 'the supervisor stopped during a self-update; going back to the previous updater');
  if (switching.from) await pointCurrentAt(paths, switching.from);
  faultPoint('supervisor:after:recover-flip');
  const recovered: SelfState = {
    active: switching.from,
    prev: state.prev,
    switching: null,
    lastSelfUpdate: {
      outcome: 'failed',
      from: switching.from,
      to: switching.to,
      version: switching.version,
      ...(switching.attempt ? { attempt: switching.attempt } : {}),
      reason: 'interrupted: the supervisor stopped during the switch',
      startedAt: switching.startedAt,
      finishedAt: new Date().toISOString(),
    },
  };
  await writeSelfState(paths, recovered);
  return recovered;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
