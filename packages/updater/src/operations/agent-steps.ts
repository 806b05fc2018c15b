import { swarmError } from '@swarm/errors';
import type { AgentRun, AgentTarget } from '../agent/agent-process.js';
import { probeAgent, probeTimings, type ProbeOutcome } from '../probe/probe-agent.js';
import { isRunning, pointCurrentAt, readCurrent, removeCurrent, resolveCurrent } from '@swarm/release-dir';
import { faultPoint } from './fault-point.js';
import type { ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext } from './lifecycle-context.js';

/**
 * The restart step: stop the running agent, then start `target` from the directory `current`
 * resolves to — checked to be the target's own — so the new process's cwd is the new code
 * even after later flips.
 */
export async function restartOnto(ctx: LifecycleContext, target: AgentTarget): Promise<AgentRun> {
  await ctx.agentProcess.stop();
  const dir = await resolveCurrent(ctx.layout, target.release.id);
  return ctx.agentProcess.start({ ...target, dir });
}

/** The probe step for one run: the release's timings, else the updater's defaults. */
export async function probeRun(ctx: LifecycleContext, run: AgentRun, signal: AbortSignal): Promise<ProbeOutcome> {
  const timings = probeTimings(run.target.manifest, ctx.config);
  const outcome = await probeAgent({
    check: ctx.checkFor(run.target),
    healthyForMs: timings.healthyForMs,
    deadlineMs: timings.deadlineMs,
    intervalMs: ctx.config.probeIntervalMs,
    exitOf: () => run.exit,
    signal,
    onCheck: (checks) => {
      if (checks === 1) faultPoint('during:probe');
    },
  });
  ctx.agentProcess.markHealthy(outcome.ok);
  ctx.logger.info(
    { release: run.target.release.id, ok: outcome.ok, detail: outcome.detail, checks: outcome.checks },
    'probe finished',
  );
  return outcome;
}

/** The outcome of putting a release back after a failure. */
export interface RevertOutcome {
  /** True when `to` runs and passed its probe (or there was nothing to bring back). */
  readonly ok: boolean;
  readonly detail: string;
}

const REVERT_PROBE_SLACK_MS = 10_000;

/**
 * Undo an activation: point `current` back at `to` (the journal's committed active) and run
 * its agent again — a new process started from its own directory (wiki/reference/guarantees.md#rollback-restores-code) — then probe
 * it unless `probe` is false (shutdown); with no `to` (a first release), stop the agent and
 * remove `current`, so nothing points at the failed release. The flip comes first: whatever
 * happens to the agent afterwards, `current` is back on committed code.
 */
export async function revertTo(
  ctx: LifecycleContext,
  to: ReleaseRecord | null,
  options: { probe: boolean },
): Promise<RevertOutcome> {
  if (!to) {
    await ctx.agentProcess.stop();
    await removeCurrent(ctx.layout);
    return { ok: true, detail: 'no previous release: the agent is stopped and current removed' };
  }
  await pointCurrentAt(ctx.layout, to.id);
  let target: AgentTarget;
  try {
    target = await ctx.targetOf(to);
  } catch (err) {
    await ctx.agentProcess.stop();
    return { ok: false, detail: `the previous release ${to.id} cannot be started: ${(err as Error).message}` };
  }
  const run = await restartOnto(ctx, target);
  if (!options.probe) return { ok: true, detail: `restarted ${to.id} without a probe (shutting down)` };
  const timings = probeTimings(target.manifest, ctx.config);
  const signal = AbortSignal.timeout(timings.deadlineMs + REVERT_PROBE_SLACK_MS);
  try {
    const outcome = await probeRun(ctx, run, signal);
    return { ok: outcome.ok, detail: outcome.detail };
  } catch (err) {
    return { ok: false, detail: `probing ${to.id} failed: ${(err as Error).message}` };
  }
}

/**
 * `rolledBack` of a 500 body: what state the host is in after a failure that could not be
 * handled by the book — whether `current` is back on the committed active release (`done`),
 * where it points, and whether an agent runs and is healthy.
 */
export interface RolledBackState {
  readonly done: boolean;
  readonly current: string | null;
  readonly agent: { readonly pid: number | null; readonly running: boolean; readonly healthy: boolean };
  readonly detail: string;
}

/** Describe the host's state for a 500 body. */
export async function hostState(ctx: LifecycleContext, detail: string): Promise<RolledBackState> {
  const current = await readCurrent(ctx.layout).catch(() => null);
  const active = ctx.journal.current.active?.id ?? null;
  const status = ctx.agentProcess.status();
  // The supervisor learns of an exit from the child's 'exit' event, which can lag behind a
  // probe that already saw the process die (it is a zombie until then): ask the kernel.
  const running = status.running && status.pid !== null && (await isRunning(status.pid));
  return {
    done: current === active,
    current,
    agent: { pid: status.pid, running, healthy: running && status.healthy },
    detail,
  };
}

/** SWARM_ERR_ROLLBACK_FAILED: the previous release did not come back healthy. */
export async function rollbackFailed(
  ctx: LifecycleContext,
  message: string,
  details: Record<string, unknown>,
  revert: RevertOutcome,
) {
  return swarmError('SWARM_ERR_ROLLBACK_FAILED', message, {
    ...details,
    rolledBack: await hostState(ctx, revert.detail),
  });
}
