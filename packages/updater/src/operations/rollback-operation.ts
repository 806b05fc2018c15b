import { performance } from 'node:perf_hooks';
import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import { probeTimings } from '../probe/probe-agent.js';
import { hostState, probeRun, restartOnto, revertTo, rollbackFailed, type RevertOutcome } from './agent-steps.js';
import type { ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext, OperationResult } from './lifecycle-context.js';
import { beginOperation, finishOperation, historyEntry, updateInFlight } from '../journal/operation-journal.js';
import { stepDeadlines } from './plan.js';
import { pointCurrentAt, releaseExists } from '@swarm/release-dir';
import type { OperationContext } from './runner.js';
import { undoNotRecorded } from './update-operation.js';

/**
 * POST /rollback: the activation half of an update, backwards onto `prev` — activate prev →
 * restart → probe → commit (active and prev swap). If prev fails its probe, the release that
 * was active is put back (flip, restart, probe): 409 RELEASE_PROBE_FAILED, or 500
 * ROLLBACK_FAILED if that one does not come back healthy either.
 */
export async function runRollback(ctx: LifecycleContext, op: OperationContext): Promise<OperationResult> {
  const started = performance.now();
  const { journal, layout, config, agentProcess } = ctx;
  const state = journal.current;
  const to = state.prev;
  const from = state.active;
  if (!to || !from) throw swarmError('SWARM_ERR_ROLLBACK_NOTHING', undefined, { active: from });
  if (!(await releaseExists(layout, to.id))) {
    throw swarmError('SWARM_ERR_ROLLBACK_NOTHING', `the previous release ${to.id} is no longer on disk`, {
      active: from,
    });
  }
  await beginOperation(ctx, op, 'activate', to);
  agentProcess.supervise(false);
  let activated = false;
  let probeFailure: { detail: string; agentOutput: string } | null = null;
  try {
    const target = await ctx.targetOf(to);
    const deadlines = stepDeadlines(config, {
      probeDeadlineMs: probeTimings(target.manifest, config).deadlineMs,
      stopTimeoutMs: Math.max(
        agentProcess.current?.target.manifest.stopTimeoutMs ?? config.stopTimeoutMs,
        target.manifest.stopTimeoutMs ?? config.stopTimeoutMs,
      ),
    });
    await op.step(
      'activate',
      deadlines.activate,
      async () => {
        activated = true;
        await pointCurrentAt(layout, to.id);
      },
      { journal: false },
    );
    const run = await op.step('restart', deadlines.restart, () => restartOnto(ctx, target));
    const probe = await op.step('probe', deadlines.probe, (signal) => probeRun(ctx, run, signal));
    if (!probe.ok) {
      probeFailure = { detail: probe.detail, agentOutput: await agentProcess.outputOf(run) };
      throw swarmError('SWARM_ERR_RELEASE_PROBE_FAILED', probe.detail);
    }
    const committed = await op.step('commit', deadlines.commit, () =>
      journal.update((s) => ({
        ...s,
        active: to,
        prev: from,
        inFlight: null,
        history: [...s.history, historyEntry(op, 'rollback', to, 'rolled_back')],
      })),
    );
    return {
      operation: op.id,
      outcome: 'rolled_back',
      release: to,
      active: committed.active,
      prev: committed.prev,
      durationMs: Math.round(performance.now() - started),
      probe: probe.detail,
    };
  } catch (err) {
    throw await failRollback(ctx, op, err, { from, to, activated, probeFailure });
  } finally {
    agentProcess.supervise(true);
  }
}

async function failRollback(
  ctx: LifecycleContext,
  op: OperationContext,
  err: unknown,
  how: {
    from: ReleaseRecord;
    to: ReleaseRecord;
    activated: boolean;
    probeFailure: { detail: string; agentOutput: string } | null;
  },
): Promise<SwarmError> {
  const { from, to } = how;
  const phase = op.phase;
  const log = ctx.logger.child({ operation: op.id });
  let revert: RevertOutcome | null = null;
  if (how.activated) {
    try {
      await updateInFlight(ctx, op, { phase: `revert:${phase}` });
    } catch (journalError) {
      log.error({ err: journalError }, 'cannot record the undo of the rollback in the journal');
      // Undo it anyway. Recovery completes an interrupted rollback only while `current` still
      // names its target (recovery.ts): once `from` is back, it keeps `from`.
      const undo = await revertTo(ctx, from, { probe: !op.signal.aborted }).catch((e: Error) => e);
      const how = { what: `the rollback to ${to.id}`, recovery: `keeps ${from.id}`, undo };
      return undoNotRecorded(ctx, journalError, how, { phase, active: from, release: to });
    }
    try {
      revert = await revertTo(ctx, from, { probe: !op.signal.aborted });
    } catch (revertError) {
      log.error({ err: revertError }, 'undoing the rollback failed');
      return swarmError(
        'SWARM_ERR_ROLLBACK_FAILED',
        `undoing the failed rollback failed: ${(revertError as Error).message}`,
        {
          phase,
          active: from,
          release: to,
          rolledBack: await hostState(ctx, (revertError as Error).message),
        },
      );
    }
  }
  let error: SwarmError;
  const details = { phase, active: from, release: to };
  if (revert && !revert.ok) {
    error = await rollbackFailed(
      ctx,
      `rolling back to ${to.id} failed, and ${from.id} did not come back healthy: ${revert.detail}`,
      { ...details, detail: how.probeFailure?.detail, agentOutput: how.probeFailure?.agentOutput },
      revert,
    );
  } else if (how.probeFailure) {
    error = swarmError(
      'SWARM_ERR_RELEASE_PROBE_FAILED',
      `the previous release ${to.id} failed its health probe; ${from.id} runs again: ${how.probeFailure.detail}`,
      {
        ...details,
        phase: 'probe',
        detail: how.probeFailure.detail,
        agentOutput: how.probeFailure.agentOutput,
      },
    );
  } else if (isSwarmError(err) && err.code !== 'SWARM_ERR_UPDATER_INTERNAL') {
    error = err;
    error.details = { ...details, ...error.details };
    if (how.activated) error.details.rolledBack = await hostState(ctx, revert?.detail ?? '');
  } else {
    log.error({ err, phase }, 'rollback failed unexpectedly');
    error = swarmError(
      'SWARM_ERR_UPDATER_INTERNAL',
      `the rollback failed unexpectedly in phase ${phase}: ${(err as Error)?.message ?? String(err)}`,
      {
        ...details,
        rolledBack: await hostState(ctx, revert?.detail ?? 'nothing had been activated'),
      },
      { cause: err },
    );
  }
  try {
    await finishOperation(ctx, historyEntry(op, 'rollback', to, 'failed', error));
  } catch (journalError) {
    log.error({ err: journalError }, 'cannot record the failed rollback in the journal');
  }
  return error;
}
