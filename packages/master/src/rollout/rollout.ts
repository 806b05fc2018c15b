import { releaseId } from '@swarm/bundle';
import type { UpdaterClient, UpdaterTarget } from '@swarm/updater-client';
import type { HostRecord, Registry } from '@swarm/inventory';
import { isFailure, type HostResult, type ReleaseRef, type RolloutEvent } from './outcome.js';
import { activateHost, rollbackHost, updateHost, type HostContext, type PackedRelease } from './host-steps.js';
import { passGate, runAfterHook, type HostGates } from './host-gates.js';
import { waitForWindow, type MaintenanceWindow } from './maintenance-window.js';
import { schedule } from './schedule.js';

/** Scheduling knobs of a rollout (wiki/reference/cli.md, guarantees.md#defaults-and-limits for the defaults). */
export interface RolloutPolicy {
  /** Hosts in flight at once after the canaries (default 4). */
  readonly concurrency: number;
  /** Hosts that go first, alone (default 1). */
  readonly canary: number;
  /** Stop starting hosts once more than this many failed, over the whole rollout (default 0). */
  readonly maxFailures: number;
}

export const DEFAULT_POLICY: RolloutPolicy = { concurrency: 4, canary: 1, maxFailures: 0 };

/** Options of {@link runRollout}. */
export interface RolloutOptions {
  readonly kind: 'update' | 'rollback' | 'activate';
  /** Target hosts, in rollout order. */
  readonly hosts: readonly HostRecord[];
  readonly registry: Registry;
  readonly client: UpdaterClient;
  /** The application release to push (update only; null for `--self-tarball` alone). */
  readonly release?: PackedRelease | null;
  /** The updater release to push after the application (update `--include-self`). */
  readonly self?: PackedRelease | null;
  readonly force?: boolean;
  /** activate: the staged release to activate (its digest; name and version for the record). */
  readonly activate?: { readonly name: string; readonly version: string; readonly sha256: string };
  /** Stage the release on each host instead of updating (`swarm update --stage-only`). */
  readonly stageOnly?: boolean;
  readonly policy: RolloutPolicy;
  /** update and activate: a host is started only inside one of these windows (none: any time). */
  readonly windows?: readonly MaintenanceWindow[];
  /** Where the rollout says it waits for a window (the CLI's stderr). */
  readonly notes?: { write(chunk: string): unknown };
  /** update and activate: the `--before-host` gate and `--after-host` hook around each host. */
  readonly gates?: HostGates;
  /** Stop starting new hosts (the first Ctrl-C). */
  readonly stop?: AbortSignal;
  /** Abort calls in flight too (the second Ctrl-C). */
  readonly abort?: AbortSignal;
  readonly onEvent?: (event: RolloutEvent) => void;
}

/**
 * The rollout's release as a release object (`{ id, name, version, sha256, installedAt }`,
 * like everywhere else): `installedAt` is null at the top level, where no single host's
 * install time applies.
 */
export interface RolloutRelease {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly installedAt: string | null;
}

/** What `swarm update` / `swarm rollback` print with `--json` (wiki/reference/cli.md). */
export interface RolloutResult {
  /**
   * update: the release pushed (the updater release for `--self-tarball` alone). rollback:
   * the release every host that answered went back to, when they all agree; else null.
   */
  readonly release: RolloutRelease | null;
  readonly results: HostResult[];
}

/** The top-level release object of a packed release. */
export function rolloutRelease(release: { name: string; version: string; sha256: string }): RolloutRelease {
  return {
    id: releaseId(release, release.sha256),
    name: release.name,
    version: release.version,
    sha256: release.sha256,
    installedAt: null,
  };
}

/** The one release the results went back to, or null when none or several. */
export function commonRelease(results: readonly HostResult[]): RolloutRelease | null {
  const releases = results.map((r) => r.release).filter((r): r is ReleaseRef => r !== null);
  const first = releases[0];
  if (!first || releases.some((r) => r.sha256 !== first.sha256)) return null;
  return { id: first.id, name: first.name, version: first.version, sha256: first.sha256, installedAt: null };
}

/** The updater endpoint of an enrolled host; its pin is the recorded updater fingerprint. */
export function targetOf(host: HostRecord): UpdaterTarget {
  return { host: host.name, address: host.address, port: host.updaterPort, pin: host.updaterFingerprint };
}

/**
 * Run a rollout and record it in the history: the operation is opened before the first
 * host is contacted, each host's outcome is written as soon as it is known, and the
 * operation is closed at the end — so a rollout cut short (even by SIGKILL) stays visible.
 */
export async function runRollout(options: RolloutOptions): Promise<RolloutResult> {
  const { registry, policy } = options;
  const release = options.release ?? options.self ?? options.activate ?? null;
  const releaseRef = release ? { name: release.name, version: release.version, sha256: release.sha256 } : null;
  const top = release ? rolloutRelease(release) : null;
  const operationId = registry.startOperation({
    kind:
      options.kind === 'rollback'
        ? 'rollback'
        : options.kind === 'activate'
          ? 'activate'
          : options.stageOnly
            ? 'stage'
            : options.release
              ? 'update'
              : 'update-self',
    release: releaseRef,
    options: {
      ...policy,
      force: options.force ?? false,
      hosts: options.hosts.map((h) => h.name),
      self: options.self?.version ?? null,
      // Pulled from a registry: the reference as resolved, digest included (a tag resolved once).
      from: options.release?.artifact ? pulledFrom(options.release.artifact) : null,
      pid: process.pid,
    },
  });
  const emit = options.onEvent ?? (() => {});
  const abort = options.abort ?? new AbortController().signal;

  const turns = await schedule(options.hosts, { ...policy, signal: options.stop }, async (host) => {
    const ctx: HostContext = {
      client: options.client,
      target: targetOf(host),
      signal: abort,
      onPhase: (phase) => emit({ type: 'phase', host: host.name, phase }),
      onProgress: (bytesSent) =>
        emit({ type: 'progress', host: host.name, bytesSent, totalBytes: options.release?.size ?? 0 }),
    };
    const env = {
      SWARM_HOST: host.name,
      SWARM_HOST_ADDRESS: host.address,
      SWARM_RELEASE_NAME: release?.name ?? '',
      SWARM_RELEASE_VERSION: release?.version ?? '',
      SWARM_RELEASE_SHA256: release?.sha256 ?? '',
      SWARM_ROLLOUT_ID: String(operationId),
    };
    const gates = options.kind === 'rollback' ? undefined : options.gates;
    const gateStarted = Date.now();
    const windows = options.kind === 'rollback' ? [] : (options.windows ?? []);
    if (!(await waitForWindow(windows, AbortSignal.any([options.stop ?? abort, abort]), options.notes))) {
      const result: HostResult = {
        host: host.name,
        outcome: 'skipped',
        release: null,
        durationMs: Date.now() - gateStarted,
        error: {
          code: 'SWARM_ERR_ROLLOUT_INTERRUPTED',
          message: 'not attempted: interrupted while waiting for a window',
        },
      };
      record(result);
      return { ...result, failed: false };
    }
    const refused = gates ? await passGate(gates, env, host.name, abort) : null;
    if (refused) {
      // "Not now" for too long (or Ctrl-C while waiting): the host was never touched. A refusal counts as a failure.
      const counts = refused.code === 'SWARM_ERR_GATE_REFUSED';
      const result: HostResult = {
        host: host.name,
        outcome: counts ? 'failed' : 'skipped',
        release: null,
        durationMs: Date.now() - gateStarted,
        error: { code: refused.code, message: refused.message },
      };
      record(result);
      return { ...result, failed: counts };
    }
    let result =
      options.kind === 'rollback'
        ? await rollbackHost(ctx)
        : options.kind === 'activate' && options.activate
          ? await activateHost(ctx, options.activate)
          : await updateHost(ctx, {
              release: options.release ?? null,
              self: options.self ?? null,
              force: options.force ?? false,
              stageOnly: options.stageOnly ?? false,
            });
    // The hook pairs with the gate (drain, then undrain): it runs for every host that ends in
    // a good state, touched or not; a host that failed or rolled back is left for the operator.
    if (gates && (result.outcome === 'updated' || result.outcome === 'staged' || result.outcome === 'up_to_date')) {
      const hookFailed = await runAfterHook(gates, env, host.name, abort);
      if (hookFailed)
        result = { ...result, outcome: 'failed', error: { code: hookFailed.code, message: hookFailed.message } };
    }
    record(result);
    return { ...result, failed: isFailure(result.outcome, options.kind) };
  });

  const results: HostResult[] = turns.map((turn, i) => {
    if (!('notStarted' in turn)) {
      const { failed: _failed, ...result } = turn;
      return result;
    }
    const interrupted = turn.notStarted === 'interrupted';
    const result: HostResult = {
      host: options.hosts[i]!.name,
      outcome: 'skipped',
      release: null,
      durationMs: 0,
      error: interrupted
        ? { code: 'SWARM_ERR_ROLLOUT_INTERRUPTED', message: 'not attempted: the rollout was interrupted' }
        : {
            code: 'SWARM_ERR_ROLLOUT_SKIPPED',
            message: 'not attempted: the failure budget was exceeded before this host',
          },
    };
    record(result);
    return result;
  });

  const failed = results.some((r) => isFailure(r.outcome, options.kind));
  registry.finishOperation(operationId, options.stop?.aborted ? 'interrupted' : failed ? 'failed' : 'succeeded');
  return { release: options.kind === 'rollback' ? commonRelease(results) : top, results };

  function record(result: HostResult): void {
    emit({ type: 'done', result });
    registry.recordHostResult(operationId, {
      host: result.host,
      outcome: result.outcome,
      releaseId: result.release?.id ?? null,
      durationMs: result.durationMs,
      error: result.error,
    });
  }
}

/** `HOST/REPO[:TAG]@sha256:…` of a pulled release. */
function pulledFrom(artifact: { registry: string; repository: string; digest: string; tag?: string | null }): string {
  return `${artifact.registry}/${artifact.repository}${artifact.tag ? `:${artifact.tag}` : ''}@${artifact.digest}`;
}
