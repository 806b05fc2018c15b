import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import { hostState } from '../operations/agent-steps.js';
import type { HistoryEntry, InFlightOperation, OperationKind, OperationOutcome, ReleaseRecord } from './journal.js';
import type { LifecycleContext } from '../operations/lifecycle-context.js';
import type { OperationInfo } from '../operations/runner.js';

/**
 * Open an operation in the journal (inFlight). Refuses while an earlier operation is still
 * recorded as in flight: only the recovery of a restart may touch the install directory then.
 * That happens when undoing the earlier operation failed, or when the journal itself could not
 * be written — the write of a step failed, then the one recording that failure (a full or
 * failing disk): the refusal says which, since the remedy differs.
 */
export async function beginOperation(
  ctx: LifecycleContext,
  op: OperationInfo,
  phase: string,
  target: ReleaseRecord | null,
): Promise<void> {
  const stuck = ctx.journal.current.inFlight;
  if (stuck) throw await stuckRefusal(ctx, stuck);
  const inFlight: InFlightOperation = {
    id: op.id,
    kind: op.kind,
    phase,
    startedAt: op.startedAt,
    target,
    targetCommitted: target !== null,
    install: null,
  };
  try {
    await ctx.journal.update((s) => ({ ...s, inFlight }));
  } catch (err) {
    // The journal refused the write (a full or failing disk): nothing was done. Record the
    // failure in the history if the journal takes the next write, so that the operator sees
    // it there too. (Found by test/reliability/fs-faults.)
    const cause = ctx.journal.writeFailure?.message ?? (err as Error).message;
    const error = swarmError(
      'SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED',
      `cannot record the ${op.kind} in the journal ${ctx.layout.state}, nothing was done: ${cause}`,
      { ...(isSwarmError(err) ? err.details : {}), phase, rolledBack: await hostState(ctx, 'nothing was done') },
      { cause: err },
    );
    await finishOperation(ctx, historyEntry(op, op.kind, target, 'failed', error)).catch(() => undefined);
    throw error;
  }
}

/** The refusal of a new operation while `stuck` is still recorded as in flight. */
async function stuckRefusal(ctx: LifecycleContext, stuck: InFlightOperation): Promise<SwarmError> {
  const what = `the ${stuck.kind} ${stuck.id} (phase ${stuck.phase})`;
  const failure = ctx.journal.writeFailure;
  if (failure) {
    // The journal, not the host, is what failed: the operation may well have been undone
    // in fact, but state.json still says it is in flight and is the truth recovery reads.
    return swarmError(
      'SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED',
      `the journal could not be written (${failure.message}), so ${what} is still recorded as in flight: ` +
        `check the disk of ${ctx.layout.root} (free space, I/O errors), then restart the updater so that it recovers`,
      {
        inFlight: stuck,
        path: ctx.layout.state,
        errno: failure.errno,
        rolledBack: await hostState(ctx, `the journal could not be written: ${failure.message}`),
      },
    );
  }
  return swarmError(
    'SWARM_ERR_UPDATER_INTERNAL',
    `${what} could not be undone; restart the updater so that it recovers`,
    { inFlight: stuck, rolledBack: await hostState(ctx, 'an earlier operation could not be undone') },
  );
}

/** Change the in-flight record of `op` (its phase, its target, its install process). */
export async function updateInFlight(
  ctx: LifecycleContext,
  op: { id: string },
  change: Partial<Pick<InFlightOperation, 'phase' | 'target' | 'targetCommitted' | 'install'>>,
): Promise<void> {
  await ctx.journal.update((s) => (s.inFlight?.id === op.id ? { ...s, inFlight: { ...s.inFlight, ...change } } : s));
}

const DETAIL_CHARS = 1000;

/** A history entry for `op`, ending now. */
export function historyEntry(
  op: OperationInfo,
  kind: OperationKind,
  release: ReleaseRecord | null,
  outcome: OperationOutcome,
  error: SwarmError | null = null,
): HistoryEntry {
  const details = (error?.details ?? {}) as { detail?: unknown; output?: unknown };
  const detail =
    typeof details.detail === 'string'
      ? details.detail
      : typeof details.output === 'string'
        ? details.output
        : undefined;
  return {
    id: op.id,
    kind,
    release,
    outcome,
    phase: op.phase,
    error: error
      ? { code: error.code, message: error.message, ...(detail ? { detail: detail.slice(-DETAIL_CHARS) } : {}) }
      : null,
    startedAt: op.startedAt,
    finishedAt: new Date().toISOString(),
  };
}

/** Close a failed or no-op operation: clear inFlight and append its history entry (one write). */
export async function finishOperation(ctx: LifecycleContext, entry: HistoryEntry): Promise<void> {
  await ctx.journal.update((s) => ({ ...s, inFlight: null, history: [...s.history, entry] }));
}
