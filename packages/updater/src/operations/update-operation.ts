import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  extractRelease,
  releaseId,
  startWriteBack,
  syncTree,
  type ExtractLimits,
  type ReleaseManifest,
} from '@swarm/bundle';
import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import type { UpdaterConfig } from '../config/config-keys.js';
import { probeTimings } from '../probe/probe-agent.js';
import { verifyUpload, type UploadReceiver } from '../receive/receive-upload.js';
import { hostState, probeRun, restartOnto, revertTo, rollbackFailed, type RevertOutcome } from './agent-steps.js';
import { faultPoint } from './fault-point.js';
import { runInstall } from './install-command.js';
import type { ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext, OperationResult } from './lifecycle-context.js';
import { beginOperation, finishOperation, historyEntry, updateInFlight } from '../journal/operation-journal.js';
import { stepDeadlines } from './plan.js';
import { pruneReleases } from '../install-dir/prune.js';
import { fsyncDir, pointCurrentAt, releaseDir, releaseExists, removeRelease, stagingDir } from '@swarm/release-dir';
import type { OperationContext } from './runner.js';
import type { StageAnswer } from '@swarm/protocol';

/** The extraction caps of the configuration. */
export function extractLimits(config: UpdaterConfig): ExtractLimits {
  return {
    maxEntries: config.extractMaxEntries,
    maxTotalBytes: config.extractMaxTotalBytes,
    maxEntryBytes: config.extractMaxEntryBytes,
    maxDepth: config.extractMaxDepth,
    maxPathBytes: config.extractMaxPathBytes,
    maxInflationRatio: config.extractMaxInflationRatio,
    inflationFloorBytes: config.extractInflationFloorBytes,
  };
}

/** What the failure handling needs to know about how far an update got. */
interface Progress {
  target: ReleaseRecord | null;
  /** releases/<target.id> was created by this operation (and must go if it fails). */
  created: boolean;
  /** `current` may point at the target: a failure must flip it back. */
  activated: boolean;
  /** Set when the probe failed (not an exception: the expected way a release fails). */
  probeFailure: { detail: string; agentOutput: string } | null;
}

/** The release an operation brings in, once received (or found staged) and ready to activate. */
interface Obtained {
  readonly target: ReleaseRecord;
  readonly manifest: ReleaseManifest;
}

/**
 * POST /update: receive → verify → extract → install → activate → restart → probe → commit →
 * prune (see plan.ts and the runner's INVARIANTS). On failure the host is put back as it was:
 * nothing before `activate` touched `current` or the agent; after it, `current` is flipped back
 * to the committed active release whose agent is restarted and probed (or, for a first
 * release, the agent is stopped and `current` removed), and the new release is deleted.
 */
export async function runUpdate(
  ctx: LifecycleContext,
  op: OperationContext,
  receive: UploadReceiver,
): Promise<OperationResult> {
  const started = performance.now();
  await beginOperation(ctx, op, 'receive', null);
  ctx.agentProcess.supervise(false);
  const staging = stagingDir(ctx.layout, op.id);
  const progress: Progress = { target: null, created: false, activated: false, probeFailure: null };
  let result: OperationResult;
  try {
    const obtained = await obtain(ctx, op, receive, staging, progress);
    if (obtained === 'active') {
      const { active, prev } = ctx.journal.current;
      await finishOperation(ctx, historyEntry(op, 'update', active, 'unchanged'));
      return unchanged(op, active!, prev, started);
    }
    result = await activateTarget(ctx, op, obtained, progress, started);
  } catch (err) {
    throw await failUpdate(ctx, op, err, progress);
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    ctx.agentProcess.supervise(true);
  }
  await pruneAfter(ctx, op);
  return result;
}

/**
 * POST /activate: the staged release with this digest, activated as an update would be from
 * `activate` on (wiki/reference/updater-api.md#post-activate) — no transfer, no extraction,
 * no install. 404 NOTHING_STAGED when no staged release has the digest. A failed activation is
 * undone like a failed update; the release is then no longer staged (it failed on this host)
 * but kept as a retained release until pruned.
 */
export async function runActivate(
  ctx: LifecycleContext,
  op: OperationContext,
  sha256: string,
): Promise<OperationResult> {
  const started = performance.now();
  const staged = ctx.journal.current.staged;
  if (!staged || staged.sha256 !== sha256) {
    throw swarmError(
      'SWARM_ERR_NOTHING_STAGED',
      staged
        ? `the staged release is ${staged.id}, not ${sha256}`
        : `no release is staged on this host (asked for ${sha256})`,
      { sha256, staged },
    );
  }
  await beginOperation(ctx, op, 'activate', staged);
  ctx.agentProcess.supervise(false);
  const progress: Progress = { target: staged, created: false, activated: false, probeFailure: null };
  let result: OperationResult;
  try {
    if (!(await releaseExists(ctx.layout, staged.id))) {
      throw swarmError('SWARM_ERR_NOTHING_STAGED', `the directory of the staged release ${staged.id} is gone`, {
        sha256,
        staged,
      });
    }
    const { manifest } = await ctx.targetOf(staged);
    result = await activateTarget(ctx, op, { target: staged, manifest }, progress, started);
  } catch (err) {
    const error = await failUpdate(ctx, op, err, progress);
    // It failed here: it is no longer waiting to be activated (its directory stays, retained).
    await ctx.journal
      .update((s) => (s.staged?.id === staged.id ? { ...s, staged: null } : s))
      .catch((e: unknown) => ctx.logger.warn({ err: e }, 'cannot record that the staged release is no longer staged'));
    throw error;
  } finally {
    ctx.agentProcess.supervise(true);
  }
  await pruneAfter(ctx, op);
  return result;
}

/** What `POST /stage` answers. */
export type StageResult = StageAnswer;

/**
 * POST /stage: receive → verify → extract → install, then the release is committed as the
 * host's staged release; `current` and the agent are untouched. A release already retained
 * (the previous one, or the one staged) is staged again without a transfer being extracted;
 * the active release's digest is `unchanged`. A previous staged release is deleted (unless it
 * is active or prev); a failure keeps nothing new and leaves the previous staged release
 * staged.
 */
export async function runStage(
  ctx: LifecycleContext,
  op: OperationContext,
  receive: UploadReceiver,
): Promise<StageResult> {
  await beginOperation(ctx, op, 'receive', null);
  const staging = stagingDir(ctx.layout, op.id);
  const progress: Progress = { target: null, created: false, activated: false, probeFailure: null };
  let replaced: ReleaseRecord | null = null;
  let result: StageResult;
  try {
    const obtained = await obtain(ctx, op, receive, staging, progress);
    if (obtained === 'active') {
      await finishOperation(ctx, historyEntry(op, 'stage', ctx.journal.current.active, 'unchanged'));
      return { staged: null, unchanged: true };
    }
    const { target } = obtained;
    const committed = await op.step('commit', stepDeadlines(ctx.config).commit, async () => {
      const entry = historyEntry(op, 'stage', target, 'staged');
      return ctx.journal.update((s) => {
        replaced = s.staged && s.staged.id !== target.id ? s.staged : null;
        return {
          ...s,
          staged: target,
          releases: [...s.releases.filter((r) => r.id !== target.id), target],
          inFlight: null,
          history: [...s.history, entry],
        };
      });
    });
    result = { staged: committed.staged };
  } catch (err) {
    throw await failUpdate(ctx, op, err, progress);
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
  if (replaced) await discardRelease(ctx, replaced);
  return result;
}

/**
 * DELETE /staged: the staged release is no longer staged, and its directory is deleted unless
 * it is active or prev. `null` when nothing was staged.
 */
export async function runDiscard(
  ctx: LifecycleContext,
  op: OperationContext,
): Promise<{ discarded: ReleaseRecord | null }> {
  const staged = ctx.journal.current.staged;
  if (!staged) return { discarded: null };
  const entry = historyEntry(op, 'discard', staged, 'discarded');
  await ctx.journal.update((s) => ({ ...s, staged: null, history: [...s.history, entry] }));
  await discardRelease(ctx, staged);
  return { discarded: staged };
}

/**
 * Delete a release that is neither staged, active nor prev any more: the directory first,
 * then its record (a crash in between leaves a record without a directory, which recovery
 * forgets). A failure is logged: the next prune retries.
 */
async function discardRelease(ctx: LifecycleContext, release: ReleaseRecord): Promise<void> {
  const { active, prev, staged } = ctx.journal.current;
  if ([active?.id, prev?.id, staged?.id].includes(release.id)) return;
  try {
    await removeRelease(ctx.layout, release.id);
    await ctx.journal.update((s) => ({ ...s, releases: s.releases.filter((r) => r.id !== release.id) }));
    ctx.logger.info({ release: release.id }, 'the replaced staged release was deleted');
  } catch (err) {
    ctx.logger.warn({ err, release: release.id }, 'cannot delete the replaced staged release; the next prune retries');
  }
}

/**
 * Receive, verify and make the release a complete, installed `releases/<id>` (or find it
 * already there): the part of an update that runs before anything is activated, and all of a
 * stage. `'active'` when the upload is the active release.
 */
async function obtain(
  ctx: LifecycleContext,
  op: OperationContext,
  receive: UploadReceiver,
  staging: string,
  progress: Progress,
): Promise<Obtained | 'active'> {
  const { journal, layout, config } = ctx;
  const deadlines = stepDeadlines(config);
  await mkdir(staging, { mode: 0o700 });
  const tarball = join(staging, 'release.tgz');
  const upload = await op.step('receive', deadlines.receive, (signal) => receive(tarball, signal), {
    journal: false,
    onTimeout: (ms) =>
      swarmError('SWARM_ERR_UPLOAD_INCOMPLETE', `the upload did not complete within ${ms} ms`, { phase: 'receive' }),
  });
  await op.step('verify', deadlines.verify, async () => verifyUpload(upload));

  // A digest this host already committed is reused as is: same bytes, same release.
  const before = journal.current;
  const known = before.releases.find((r) => r.sha256 === upload.sha256);
  if (known && before.active?.id === known.id) return 'active';
  if (known && (await releaseExists(layout, known.id))) {
    progress.target = known;
    await updateInFlight(ctx, op, { target: known, targetCommitted: true });
    return { target: known, manifest: (await ctx.targetOf(known)).manifest };
  }
  const tree = join(staging, 'tree');
  // The tree is flushed as it is written; activation's syncTree then has little left.
  const writeBack = startWriteBack(staging);
  const extracted = await op
    .step('extract', deadlines.extract, (signal) =>
      extractRelease(tarball, tree, { limits: extractLimits(config), signal }),
    )
    .finally(() => writeBack.stop());
  const manifest = extracted.manifest;
  const target: ReleaseRecord = {
    id: releaseId(manifest, upload.sha256),
    name: manifest.name,
    version: manifest.version,
    sha256: upload.sha256,
    installedAt: new Date().toISOString(),
  };
  const sameId = before.releases.find((r) => r.id === target.id);
  if (sameId && sameId.sha256 !== target.sha256) {
    // Same version and same 48-bit digest prefix, different digest: never overwrite a committed release.
    throw swarmError(
      'SWARM_ERR_UPDATER_INTERNAL',
      `release id ${target.id} is taken by a committed release with another digest`,
      { phase: 'extract' },
    );
  }
  if (sameId) {
    // This very release, whose directory is gone (a prune that could not record itself):
    // forget the stale record, as recovery would, and install it afresh.
    await journal.update((s) => ({
      ...s,
      staged: s.staged?.id === target.id ? null : s.staged,
      releases: s.releases.filter((r) => r.id !== target.id),
    }));
  }
  progress.target = target;
  // Journal the target before its directory exists, so recovery knows what to delete.
  await updateInFlight(ctx, op, { target, targetCommitted: false });
  // A directory of that name that is not committed is a leftover of a failed attempt.
  await removeRelease(layout, target.id);
  await rename(tree, releaseDir(layout, target.id));
  progress.created = true;
  await fsyncDir(layout.releases);
  await rm(staging, { recursive: true, force: true });
  if (manifest.install) {
    const dir = releaseDir(layout, target.id);
    const argv = manifest.install;
    await op.step('install', deadlines.install, (signal) =>
      runInstall({
        argv,
        cwd: dir,
        env: ctx.envFor(dir, manifest.version),
        timeoutMs: config.installTimeoutMs,
        signal,
        onSpawn: async (install) => {
          await updateInFlight(ctx, op, { install });
          faultPoint('during:install');
        },
      }),
    );
  }
  return { target, manifest };
}

/** activate → restart → probe → commit of a release obtained complete (the update's second half). */
async function activateTarget(
  ctx: LifecycleContext,
  op: OperationContext,
  { target, manifest }: Obtained,
  progress: Progress,
  started: number,
): Promise<OperationResult> {
  const { journal, layout, config, agentProcess } = ctx;
  const running = agentProcess.current?.target.manifest.stopTimeoutMs;
  const timed = stepDeadlines(config, {
    probeDeadlineMs: probeTimings(manifest, config).deadlineMs,
    stopTimeoutMs: Math.max(running ?? config.stopTimeoutMs, manifest.stopTimeoutMs ?? config.stopTimeoutMs),
  });
  await op.step('activate', timed.activate, async () => {
    if (progress.created) await syncTree(releaseDir(layout, target.id));
    progress.activated = true;
    await pointCurrentAt(layout, target.id);
  });
  const run = await op.step('restart', timed.restart, async () => restartOnto(ctx, await ctx.targetOf(target)));
  const probe = await op.step('probe', timed.probe, (signal) => probeRun(ctx, run, signal));
  if (!probe.ok) {
    progress.probeFailure = { detail: probe.detail, agentOutput: await agentProcess.outputOf(run) };
    throw swarmError('SWARM_ERR_RELEASE_PROBE_FAILED', probe.detail);
  }
  const committed = await op.step('commit', timed.commit, async () => {
    const entry = historyEntry(op, op.kind, target, 'updated');
    return journal.update((s) => ({
      ...s,
      active: target,
      prev: s.active && s.active.id !== target.id ? s.active : s.prev,
      staged: s.staged?.id === target.id ? null : s.staged,
      releases: [...s.releases.filter((r) => r.id !== target.id), target],
      inFlight: null,
      history: [...s.history, entry],
    }));
  });
  return {
    operation: op.id,
    outcome: 'updated',
    release: target,
    active: committed.active,
    prev: committed.prev,
    durationMs: Math.round(performance.now() - started),
    probe: probe.detail,
  };
}

/** After the commit nothing can undo the operation: a failed prune is only logged. */
async function pruneAfter(ctx: LifecycleContext, op: OperationContext): Promise<void> {
  await op
    .step('prune', stepDeadlines(ctx.config).prune, () => pruneReleases(ctx), { journal: false })
    .catch((err: unknown) => {
      ctx.logger.warn({ err, operation: op.id }, 'pruning old releases failed; retried after the next update');
    });
}

function unchanged(
  op: OperationContext,
  release: ReleaseRecord,
  prev: ReleaseRecord | null,
  started: number,
): OperationResult {
  return {
    operation: op.id,
    outcome: 'unchanged',
    release,
    active: release,
    prev,
    durationMs: Math.round(performance.now() - started),
    probe: null,
  };
}

/**
 * Put the host back as it was before the update and turn what happened into the answer:
 * 409 RELEASE_PROBE_FAILED (previous release running again), 409 RELEASE_FIRST_FAILED (no
 * previous release: no agent, no `current`), 500 ROLLBACK_FAILED (the previous release did not
 * come back healthy), 500 UPDATER_JOURNAL_WRITE_FAILED (the undo could not be recorded: it is
 * done anyway, and the next start makes the journal agree), the step's own error (4xx, nothing
 * was activated), or 500
 * UPDATER_INTERNAL with `rolledBack` describing the host.
 */
async function failUpdate(
  ctx: LifecycleContext,
  op: OperationContext,
  err: unknown,
  progress: Progress,
): Promise<SwarmError> {
  const phase = op.phase;
  const active = ctx.journal.current.active;
  const release = progress.target;
  const log = ctx.logger.child({ operation: op.id });
  let revert: RevertOutcome | null = null;
  if (progress.activated) {
    try {
      await updateInFlight(ctx, op, { phase: `revert:${phase}` });
    } catch (journalError) {
      log.error({ err: journalError }, 'cannot record the undo of the update in the journal');
      // Undo it anyway: leaving the failed release running until a restart helps nobody, and
      // the journal still says the update is in flight, which recovery undoes the same way.
      const undo = await revertTo(ctx, active, { probe: !op.signal.aborted }).catch((e: Error) => e);
      const recovery = active ? `keeps ${active.id}` : 'removes current';
      return undoNotRecorded(
        ctx,
        journalError,
        { what: `the update to ${release?.id}`, recovery, undo },
        { phase, active, release },
      );
    }
    try {
      revert = await revertTo(ctx, active, { probe: !op.signal.aborted });
    } catch (revertError) {
      // `current` may still name the failed release: leave inFlight in the journal so the
      // recovery of the next start finishes the job, and refuse operations until then.
      log.error({ err: revertError }, 'undoing the activation failed');
      return swarmError('SWARM_ERR_ROLLBACK_FAILED', `undoing the update failed: ${(revertError as Error).message}`, {
        phase,
        active,
        release,
        rolledBack: await hostState(ctx, (revertError as Error).message),
      });
    }
  }
  if (progress.created && release) {
    await removeRelease(ctx.layout, release.id).catch((e: unknown) =>
      log.warn({ err: e }, 'cannot delete the failed release'),
    );
  }

  let error: SwarmError;
  let outcome: 'rolled_back' | 'failed' = 'failed';
  const failure = progress.probeFailure;
  if (failure) {
    const details = { phase: 'probe', detail: failure.detail, agentOutput: failure.agentOutput, release };
    if (!active) {
      error = swarmError(
        'SWARM_ERR_RELEASE_FIRST_FAILED',
        `the first release ${release?.id} failed its health probe: ${failure.detail}`,
        { ...details, active: null },
      );
    } else if (revert?.ok) {
      outcome = 'rolled_back';
      error = swarmError(
        'SWARM_ERR_RELEASE_PROBE_FAILED',
        `${release?.id} failed its health probe and was rolled back to ${active.id}: ${failure.detail}`,
        { ...details, active },
      );
    } else {
      error = await rollbackFailed(
        ctx,
        `${release?.id} failed its health probe, and the previous release ${active.id} did not come back healthy: ${revert?.detail}`,
        { ...details, active },
        revert!,
      );
    }
  } else if (isSwarmError(err) && err.code !== 'SWARM_ERR_UPDATER_INTERNAL' && (!revert || revert.ok)) {
    error = err;
    error.details = { phase, ...error.details, active, ...(release ? { release } : {}) };
    // Every 500 says what state the host is in (wiki/reference/updater-api.md), e.g. ARCHIVE_WRITE_FAILED on a full disk.
    if (progress.activated || error.statusCode >= 500)
      error.details.rolledBack = await hostState(ctx, revert?.detail ?? 'nothing had been activated');
  } else if (revert && !revert.ok) {
    error = await rollbackFailed(
      ctx,
      `${phase} failed (${(err as Error).message}), and the previous release did not come back healthy: ${revert.detail}`,
      { phase, active, release },
      revert,
    );
  } else {
    log.error({ err, phase }, 'update failed unexpectedly');
    const message = isSwarmError(err)
      ? err.message
      : `the update failed unexpectedly in phase ${phase}: ${(err as Error)?.message ?? String(err)}`;
    error = swarmError(
      'SWARM_ERR_UPDATER_INTERNAL',
      message,
      {
        phase,
        active,
        release,
        rolledBack: await hostState(ctx, revert?.detail ?? 'nothing had been activated'),
      },
      { cause: err },
    );
  }
  try {
    await finishOperation(ctx, historyEntry(op, op.kind, release, outcome, error));
  } catch (journalError) {
    log.error({ err: journalError }, 'cannot record the failed update in the journal');
  }
  log.warn({ code: error.code, phase, release: release?.id, message: error.message }, `${op.kind} failed`);
  return error;
}

/**
 * The answer when the journal refuses the write that opens the undo of an activation (a full
 * or failing disk, usually right after it refused the step's own write). The caller has done
 * the undo anyway (`undo`: how it went) — a release that just failed must not keep running
 * until a restart. The journal still says the operation is in flight, which is what the
 * recovery of the next start acts on (`recovery` says what it will do); until then the
 * updater refuses new operations (`beginOperation`). The disk failed, not a rollback: the code
 * says so, and the message what to do.
 */
export async function undoNotRecorded(
  ctx: LifecycleContext,
  journalError: unknown,
  how: { what: string; recovery: string; undo: RevertOutcome | Error },
  details: { phase: string; active: ReleaseRecord | null; release: ReleaseRecord | null },
): Promise<SwarmError> {
  const failure = ctx.journal.writeFailure;
  const cause = failure?.message ?? (journalError as Error).message;
  const undone =
    how.undo instanceof Error
      ? `undoing it failed too (${how.undo.message})`
      : how.undo.ok
        ? 'it was undone'
        : `it was undone, but the release put back is not healthy (${how.undo.detail})`;
  return swarmError(
    'SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED',
    `${how.what} failed in phase ${details.phase}; ${undone}, but the journal could not record it ` +
      `(${cause}). Check the disk of ${ctx.layout.root} (free space, I/O errors), then restart the updater: ` +
      `its recovery ${how.recovery} and records the operation as interrupted`,
    {
      ...(isSwarmError(journalError) ? journalError.details : {}),
      ...details,
      errno: failure?.errno ?? null,
      rolledBack: await hostState(ctx, `${undone}; the journal could not record it (${cause})`),
    },
    { cause: journalError },
  );
}
