import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import type { Release, UpdaterHealth } from '@swarm/protocol';
import type { ArtifactRef, UpdaterClient, UpdaterTarget } from '@swarm/updater-client';
import type { HostPhase, HostResult, Outcome } from './outcome.js';

/** What every per-host step receives. */
export interface HostContext {
  readonly client: UpdaterClient;
  readonly target: UpdaterTarget;
  /** Aborts the host's in-flight call (the second Ctrl-C), not just the scheduling. */
  readonly signal: AbortSignal;
  readonly onPhase: (phase: HostPhase) => void;
  readonly onProgress: (bytesSent: number) => void;
}

/**
 * A release to roll out: what `swarm pack` printed about it, and either the packed tarball
 * to push, or the artifact on an OCI registry each host pulls (`swarm update --from`).
 */
export type PackedRelease = {
  readonly name: string;
  readonly version: string;
  /** The tarball's digest: the release's identity on every host. */
  readonly sha256: string;
  readonly size: number;
} & (
  | { readonly file: string; readonly artifact?: undefined }
  | { readonly artifact: ArtifactRef & { readonly tag?: string | null }; readonly file?: undefined }
);

/** Options of {@link updateHost}. */
export interface UpdateHostOptions {
  /** The application release (absent when only the updater is upgraded). */
  readonly release: PackedRelease | null;
  /** Also upgrade the updater to this release, after the application succeeded. */
  readonly self: PackedRelease | null;
  /** Push even when the host already runs the release. */
  readonly force: boolean;
  /** Stage the release (POST /stage) instead of updating: outcome `staged`, nothing activated. */
  readonly stageOnly?: boolean;
  /** How long to wait for a new updater to report its version (default 60 s). */
  readonly selfDeadlineMs?: number;
}

/**
 * One host's update: read its state, skip it when it already runs the release, push, and
 * classify the answer. Never throws: every failure becomes a result with a code.
 */
export async function updateHost(ctx: HostContext, options: UpdateHostOptions): Promise<HostResult> {
  const started = Date.now();
  const result = (outcome: Outcome, release: Release | null, error: SwarmError | null): HostResult => ({
    host: ctx.target.host,
    outcome,
    release: release ?? null,
    durationMs: Date.now() - started,
    error: error ? { code: error.code, message: error.message } : null,
  });

  if (options.release?.artifact && !options.force && !options.self) {
    return pullHost(ctx, options.release.artifact, options.stageOnly === true, result);
  }

  let health: UpdaterHealth;
  try {
    ctx.onPhase('checking');
    health = await ctx.client.health(ctx.target, { signal: ctx.signal });
  } catch (err) {
    return result('failed', null, asSwarmError(err));
  }

  let active = health.active;
  let changed = false;
  if (options.release && options.stageOnly) return stageHost(ctx, options.release, health, options.force, result);
  if (options.release) {
    if (options.force || active?.sha256 !== options.release.sha256) {
      // Staged there already: activate it, nothing is transferred a second time.
      const staged = !options.force && health.staged?.sha256 === options.release.sha256;
      try {
        ctx.onPhase(staged ? 'applying' : options.release.artifact ? 'pulling' : 'uploading');
        const release = options.release;
        const body = staged
          ? await ctx.client.activate(ctx.target, release.sha256, { signal: ctx.signal })
          : release.artifact
            ? await ctx.client.pull(ctx.target, release.artifact, { signal: ctx.signal })
            : await ctx.client.update(ctx.target, upload(release, ctx));
        active = body.active ?? body.release ?? null;
        changed = true;
      } catch (err) {
        const error = asSwarmError(err);
        const after = releaseIn(error.details.active) ?? active;
        // The release was activated, failed its probe, and the previous one is back.
        const outcome = error.code === 'SWARM_ERR_RELEASE_PROBE_FAILED' ? 'rolled_back' : 'failed';
        return result(outcome, after, error);
      }
    }
  }

  if (options.self && (options.force || health.version !== options.self.version)) {
    try {
      await selfUpdate(ctx, options.self, options.selfDeadlineMs ?? 60_000);
      changed = true;
    } catch (err) {
      return result('failed', active, asSwarmError(err));
    }
  }
  return result(changed ? 'updated' : 'up_to_date', active, null);
}

/**
 * `swarm activate` on one host: `up_to_date` when it runs the digest, `failed` with
 * SWARM_ERR_NOTHING_STAGED when it does not hold it staged, else POST /activate — the flip,
 * restart and probe of the staged release, rolled back by the updater when the probe fails.
 */
export async function activateHost(
  ctx: HostContext,
  release: { readonly name: string; readonly version: string; readonly sha256: string },
): Promise<HostResult> {
  const started = Date.now();
  const result = (outcome: Outcome, active: Release | null, error: SwarmError | null): HostResult => ({
    host: ctx.target.host,
    outcome,
    release: active,
    durationMs: Date.now() - started,
    error: error ? { code: error.code, message: error.message } : null,
  });
  let health: UpdaterHealth;
  try {
    ctx.onPhase('checking');
    health = await ctx.client.health(ctx.target, { signal: ctx.signal });
  } catch (err) {
    return result('failed', null, asSwarmError(err));
  }
  if (health.active?.sha256 === release.sha256) return result('up_to_date', health.active, null);
  if (health.staged?.sha256 !== release.sha256) {
    const what = health.staged
      ? `${health.staged.name} ${health.staged.version} is staged there`
      : 'nothing is staged there';
    return result(
      'failed',
      health.active,
      swarmError(
        'SWARM_ERR_NOTHING_STAGED',
        `host ${ctx.target.host} does not hold ${release.name} ${release.version} staged (${what}): stage it with swarm update --stage-only`,
      ),
    );
  }
  try {
    ctx.onPhase('applying');
    const body = await ctx.client.activate(ctx.target, release.sha256, { signal: ctx.signal });
    return result('updated', body.active ?? body.release ?? null, null);
  } catch (err) {
    const error = asSwarmError(err);
    const outcome = error.code === 'SWARM_ERR_RELEASE_PROBE_FAILED' ? 'rolled_back' : 'failed';
    return result(outcome, releaseIn(error.details.active) ?? health.active, error);
  }
}

/**
 * `swarm update --from` on one host, in one request: POST /pull, and the host decides — it
 * answers `unchanged` for the release it runs, activates one it holds (staged or retained)
 * after reading only the manifest, else pulls the layer. No GET /health first: a host costs
 * the master one mTLS connection (wiki/registry-pull.md#what-the-master-sends).
 */
async function pullHost(
  ctx: HostContext,
  artifact: ArtifactRef,
  stage: boolean,
  result: (outcome: Outcome, release: Release | null, error: SwarmError | null) => HostResult,
): Promise<HostResult> {
  ctx.onPhase('pulling');
  try {
    if (stage) {
      const answer = await ctx.client.pullStaged(ctx.target, artifact, { signal: ctx.signal });
      return result(answer.staged ? 'staged' : 'up_to_date', null, null);
    }
    const body = await ctx.client.pull(ctx.target, artifact, { signal: ctx.signal });
    return result(body.outcome === 'unchanged' ? 'up_to_date' : 'updated', body.active ?? body.release ?? null, null);
  } catch (err) {
    const error = asSwarmError(err);
    const outcome = error.code === 'SWARM_ERR_RELEASE_PROBE_FAILED' ? 'rolled_back' : 'failed';
    return result(outcome, releaseIn(error.details.active), error);
  }
}

/**
 * `swarm update --stage-only` on one host: `up_to_date` when it runs the release, `staged`
 * when it holds it staged already (nothing sent) or once POST /stage answers; a failed stage
 * is `failed` (nothing was activated, so nothing was rolled back).
 */
async function stageHost(
  ctx: HostContext,
  release: PackedRelease,
  health: UpdaterHealth,
  force: boolean,
  result: (outcome: Outcome, release: Release | null, error: SwarmError | null) => HostResult,
): Promise<HostResult> {
  if (!force && health.active?.sha256 === release.sha256) return result('up_to_date', health.active, null);
  if (!force && health.staged?.sha256 === release.sha256) return result('staged', health.active, null);
  try {
    ctx.onPhase(release.artifact ? 'pulling' : 'uploading');
    const answer = release.artifact
      ? await ctx.client.pullStaged(ctx.target, release.artifact, { signal: ctx.signal })
      : await ctx.client.stage(ctx.target, upload(release, ctx));
    return result(answer.staged ? 'staged' : 'up_to_date', health.active, null);
  } catch (err) {
    return result('failed', health.active, asSwarmError(err));
  }
}

/**
 * Push an updater release and wait until the host reports its version — or reports a
 * failed self-update, or the deadline passes. A dropped connection proves nothing either
 * way, so only `/health` decides.
 */
async function selfUpdate(ctx: HostContext, self: PackedRelease, deadlineMs: number): Promise<void> {
  ctx.onPhase('uploading');
  const accepted = await ctx.client.updateSelf(ctx.target, upload(self, ctx));
  // The updater names the attempt in its 202; the supervisor's record of the switch carries
  // it. Matching on it — not on the version, which may not change (--force, a rebuilt
  // updater) and which the old updater reports until it is stopped — tells this switch's
  // outcome apart from an earlier one.
  const attempt = typeof accepted.attempt === 'string' ? accepted.attempt : null;
  ctx.onPhase('applying');
  const deadline = Date.now() + deadlineMs;
  let last = 'the updater did not answer /health';
  while (Date.now() < deadline) {
    if (ctx.signal.aborted) throw swarmError('SWARM_ERR_ROLLOUT_INTERRUPTED');
    try {
      const health = await ctx.client.health(ctx.target, { signal: ctx.signal });
      const report = health.lastSelfUpdate;
      const ours = attempt !== null && report?.attempt === attempt;
      if (ours && report?.outcome === 'failed') {
        throw swarmError(
          'SWARM_ERR_SELF_UPDATE_FAILED',
          `the new updater did not come up: ${String(report.reason ?? 'no reason given')}`,
          {
            lastSelfUpdate: report,
          },
        );
      }
      if (ours && report?.outcome === 'succeeded' && health.version === self.version) return;
      // An updater that does not name attempts (older than this master): the version decides.
      if (attempt === null && health.version === self.version) return;
      last = `the host still reports updater version ${health.version}`;
    } catch (err) {
      if (isSwarmError(err) && err.code === 'SWARM_ERR_SELF_UPDATE_FAILED') throw err;
      if (isSwarmError(err) && err.code === 'SWARM_ERR_ROLLOUT_INTERRUPTED') throw err;
      last = (err as Error).message; // the updater is restarting: keep polling
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw swarmError('SWARM_ERR_SELF_UPDATE_FAILED', `no updater ${self.version} within ${deadlineMs} ms: ${last}`);
}

/** One host's rollback to its previous release. */
export async function rollbackHost(ctx: HostContext): Promise<HostResult> {
  const started = Date.now();
  ctx.onPhase('rolling-back');
  try {
    const body = await ctx.client.rollback(ctx.target, { signal: ctx.signal });
    return {
      host: ctx.target.host,
      outcome: 'rolled_back',
      release: body.active ?? null,
      durationMs: Date.now() - started,
      error: null,
    };
  } catch (err) {
    const error = asSwarmError(err);
    return {
      host: ctx.target.host,
      outcome: 'failed',
      release: releaseIn(error.details.active),
      durationMs: Date.now() - started,
      error: { code: error.code, message: error.message },
    };
  }
}

function upload(release: PackedRelease, ctx: HostContext) {
  if (release.file === undefined) throw new Error(`${release.name} ${release.version} has no tarball to push`);
  return {
    file: release.file,
    sha256: release.sha256,
    size: release.size,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  };
}

function releaseIn(value: unknown): Release | null {
  const r = value as Partial<Release> | null | undefined;
  return r && typeof r.id === 'string' && typeof r.sha256 === 'string' ? (r as Release) : null;
}

function asSwarmError(err: unknown): SwarmError {
  if (isSwarmError(err)) return err;
  return swarmError('SWARM_ERR_UPDATER_INTERNAL', (err as Error)?.message ?? String(err), {}, { cause: err });
}
