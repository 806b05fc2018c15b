import { stopProcessGroup } from '../process/process-group.js';
import { isAlive, pointCurrentAt, readCurrent, releaseExists, removeCurrent, removeRelease } from '@swarm/release-dir';
import type { InstallLayout } from '../install-dir/install-layout.js';
import type { HistoryEntry, ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext } from './lifecycle-context.js';
import { ensureLayout, removeLeftovers } from '../install-dir/release-store.js';

/** What recovery found and did. */
export interface RecoveryReport {
  /** Staging, trash and temporary links deleted. */
  readonly removed: readonly string[];
  /** The operation the previous updater died in, as now recorded in the history. */
  readonly interrupted: HistoryEntry | null;
  /** What became of the agent of the active release. */
  readonly agent: 'adopted' | 'started' | 'none' | 'failed';
}

const INSTALL_KILL_GRACE_MS = 1_000;

/**
 * Crash recovery at start (wiki/reference/guarantees.md#crash-recovery), run under the install-directory lock before the
 * server listens:
 * 1. delete every staging and trash directory and temporary `current` link;
 * 2. if the journal shows an operation in flight, the updater died during it: kill its
 *    `install` command if one runs; an interrupted rollback whose target is intact and that
 *    had already pointed `current` at it is completed (prev becomes active — the operator
 *    asked for it and prev is committed code);
 *    anything else is undone: `current` goes back to the committed active release (or is
 *    removed when there is none) and an uncommitted release directory is deleted; the
 *    operation enters the history as `interrupted`;
 * 3. `current` is made to agree with the journal's active release in any case;
 * 4. records of releases whose directory vanished (an interrupted prune) are forgotten (a
 *    staged release among them is no longer staged); an interrupted stage or activation
 *    leaves the previous staged release staged;
 * 5. the agent of the active release is adopted if it still runs from that release, else
 *    whatever agent is recorded is stopped and the active release's agent started.
 */
export async function recover(ctx: LifecycleContext): Promise<RecoveryReport> {
  const { layout, journal, agentProcess, logger } = ctx;
  await ensureLayout(layout);
  const removed = await removeLeftovers(layout);
  const state = journal.current;
  const op = state.inFlight;
  let interrupted: HistoryEntry | null = null;
  if (op) {
    if (op.install && (await isAlive(op.install))) {
      await stopProcessGroup(op.install, { timeoutMs: INSTALL_KILL_GRACE_MS });
    }
    const target = op.target;
    // Only a rollback that got as far as flipping `current`, and was not being undone: before
    // the flip there is nothing to complete, and a `current` already back on `active` means
    // the rollback failed and was undone even if the journal could not record it.
    const completing =
      op.kind === 'rollback' &&
      !op.phase.startsWith('revert:') &&
      target !== null &&
      state.prev?.id === target.id &&
      (await readCurrent(layout)) === target.id &&
      (await releaseExists(layout, target.id));
    const active = completing ? state.prev : state.active;
    const prev = completing ? state.active : state.prev;
    await alignCurrent(layout, active);
    if (target && !op.targetCommitted && !state.releases.some((r) => r.id === target.id)) {
      await removeRelease(layout, target.id);
    }
    interrupted = {
      id: op.id,
      kind: op.kind,
      release: target,
      outcome: 'interrupted',
      phase: op.phase,
      error: null,
      startedAt: op.startedAt,
      finishedAt: new Date().toISOString(),
      recovery: completing ? 'completed' : 'reverted',
    };
    const entry = interrupted;
    await journal.update((s) => ({ ...s, active, prev, inFlight: null, history: [...s.history, entry] }));
    logger.warn(
      { operation: op.id, kind: op.kind, phase: op.phase, recovery: entry.recovery, active: active?.id ?? null },
      'recovered an interrupted operation',
    );
  } else {
    // The journal is the truth: a `current` changed by hand is put back.
    await alignCurrent(layout, state.active);
  }

  const { active, prev } = journal.current;
  const gone: string[] = [];
  for (const r of journal.current.releases) {
    if (r.id !== active?.id && r.id !== prev?.id && !(await releaseExists(layout, r.id))) gone.push(r.id);
  }
  // A staged release whose directory vanished can no longer be activated: it is not staged.
  if (gone.length > 0)
    await journal.update((s) => ({
      ...s,
      staged: s.staged && gone.includes(s.staged.id) ? null : s.staged,
      releases: s.releases.filter((r) => !gone.includes(r.id)),
    }));

  let agent: RecoveryReport['agent'] = 'none';
  if (active) {
    try {
      const target = await ctx.targetOf(active);
      if (await agentProcess.adopt(target)) {
        agent = 'adopted';
      } else {
        await agentProcess.stopRecorded();
        await agentProcess.start(target);
        agent = 'started';
      }
    } catch (err) {
      logger.error({ err, release: active.id }, 'cannot run the active release');
      agent = 'failed';
    }
  } else {
    await agentProcess.stopRecorded();
  }
  return { removed, interrupted, agent };
}

async function alignCurrent(layout: InstallLayout, active: ReleaseRecord | null): Promise<void> {
  const now = await readCurrent(layout);
  if (active && now !== active.id) await pointCurrentAt(layout, active.id);
  else if (!active && now !== null) await removeCurrent(layout);
}
