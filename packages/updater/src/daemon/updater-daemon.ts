import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readManifest } from '@swarm/bundle';
import { swarmError, type SwarmError } from '@swarm/errors';
import type { Logger } from '@swarm/log';
import type { WorkerBundle } from '@swarm/pki';
import type { SelfUpdateRecord } from '@swarm/protocol';
import { agentEnv } from '../agent/agent-env.js';
import { hostState, type RolledBackState } from '../operations/agent-steps.js';
import { AgentProcess, type AgentStatus, type AgentTarget } from '../agent/agent-process.js';
import type { UpdaterConfig } from '../config/config-keys.js';
import { acquireInstallLock, type InstallLock } from '../lock/install-lock.js';
import { healthCheckFor } from '../probe/probe-agent.js';
import type { UploadReceiver } from '../receive/receive-upload.js';
import { releaseDir, releaseExists } from '@swarm/release-dir';
import { installLayout, type InstallLayout } from '../install-dir/install-layout.js';
import { Journal, type HistoryEntry, type ReleaseRecord } from '../journal/journal.js';
import type { LifecycleContext, OperationResult } from '../operations/lifecycle-context.js';
import { recover, type RecoveryReport } from '../operations/recovery.js';
import { runRollback } from '../operations/rollback-operation.js';
import { SingleFlightRunner, type OperationInfo } from '../operations/runner.js';
import { runActivate, runDiscard, runStage, runUpdate, type StageResult } from '../operations/update-operation.js';
import { runSelfUpdate } from '../operations/self-update-operation.js';
import { supervisorChannel } from '../self/supervisor-channel.js';
import { readLastSelfUpdate } from '../self/last-self-update.js';

/** Options of {@link UpdaterDaemon.open}. */
export interface UpdaterDaemonOptions {
  readonly config: UpdaterConfig;
  /** The worker bundle, read with `requireUpdater`. */
  readonly bundle: WorkerBundle;
  readonly logger: Logger;
}

/** A retained release as GET /releases lists it. */
export interface ReleaseListing extends ReleaseRecord {
  readonly slot: 'active' | 'prev' | 'staged' | null;
}

/** The state GET /health reports (wiki/reference/updater-api.md), read from memory only. */
export interface DaemonStatus {
  readonly busy: boolean;
  readonly operation: OperationInfo | null;
  readonly agent: AgentStatus;
  readonly active: ReleaseRecord | null;
  readonly prev: ReleaseRecord | null;
  readonly staged: ReleaseRecord | null;
  readonly lastUpdate: HistoryEntry | null;
  readonly lastSelfUpdate: SelfUpdateRecord | null;
}

/**
 * The updater's state machine around one install directory: the lock, the journal, the agent
 * supervisor and the single-flight runner of operations. `open` takes the lock *first*, then
 * reads the journal and recovers; only then may a server route requests to it.
 */
export class UpdaterDaemon {
  readonly layout: InstallLayout;
  readonly runner: SingleFlightRunner;
  private readonly ctx: LifecycleContext;
  private closing: Promise<void> | null = null;
  /** Resolves the wait of an accepted self-update once its 202 has been sent. */
  private switchRequested: (() => void) | null = null;
  /** The supervisor's record of the last self-update (read at start), or a failure seen here. */
  lastSelfUpdate: SelfUpdateRecord | null = null;

  private constructor(
    private readonly options: UpdaterDaemonOptions,
    private readonly lock: InstallLock,
    readonly journal: Journal,
    readonly agentProcess: AgentProcess,
    layout: InstallLayout,
    ctx: LifecycleContext,
    /** What recovery did at start. */
    readonly recovery: RecoveryReport | null,
  ) {
    this.layout = layout;
    this.ctx = ctx;
    this.runner = new SingleFlightRunner({
      onPhase: async (op, phase) => {
        await journal.update((s) => (s.inFlight?.id === op.id ? { ...s, inFlight: { ...s.inFlight, phase } } : s));
      },
      onStepEnd: (op, step, ms, error) => {
        const line = { operation: op.id, kind: op.kind, step, ms: Math.round(ms) };
        if (error) options.logger.info({ ...line, code: (error as { code?: unknown }).code }, 'step failed');
        else options.logger.debug(line, 'step done');
      },
    });
  }

  /** Lock the install directory, load the journal, recover, and bring the agent up. */
  static async open(options: UpdaterDaemonOptions): Promise<UpdaterDaemon> {
    const { config, bundle, logger } = options;
    const updater = bundle.updater;
    if (!updater)
      throw swarmError(
        'SWARM_ERR_BUNDLE_INVALID',
        `${config.bundle} has no updater certificate: enroll the host with --updater`,
      );
    const layout = installLayout(config.installDir);
    const lock = await acquireInstallLock(layout.root, `swarm updater for ${bundle.host.name}`);
    try {
      const journal = await Journal.open(layout.state, config.historyLimit);
      const bundleDir = resolve(config.bundle);
      const agentPort = config.agentPort ?? bundle.host.agentPort;
      const tls = { caPem: bundle.caPem, certPem: updater.certPem, keyPem: updater.keyPem };
      const envFor = (dir: string, version: string) =>
        agentEnv({ host: bundle.host.name, releaseDir: dir, version, bundleDir, agentPort });
      const checkFor = (target: AgentTarget) =>
        healthCheckFor(target.manifest, {
          releaseDir: target.dir,
          env: envFor(target.dir, target.release.version),
          agentPort,
          tls,
        });
      const targetOf = async (release: ReleaseRecord): Promise<AgentTarget> => {
        const dir = await realpath(releaseDir(layout, release.id));
        return { release, dir, manifest: await readManifest(dir) };
      };
      const agentProcess = new AgentProcess({
        layout,
        logger: logger.child({ component: 'agent-process' }),
        envFor: (target) => envFor(target.dir, target.release.version),
        checkFor,
        desired: async () => {
          const active = journal.current.active;
          return active ? targetOf(active) : null;
        },
        agentLogMaxBytes: config.agentLogMaxBytes,
        restartBackoffMs: config.restartBackoffMs,
        restartBackoffMaxMs: config.restartBackoffMaxMs,
        healthCheckIntervalMs: config.healthCheckIntervalMs,
        defaultStopTimeoutMs: config.stopTimeoutMs,
      });
      const ctx: LifecycleContext = { config, layout, journal, agentProcess, logger, envFor, checkFor, targetOf };
      const recovery = await recover(ctx);
      agentProcess.supervise(true);
      logger.info(
        {
          installDir: layout.root,
          active: journal.current.active?.id ?? null,
          agent: recovery.agent,
          removed: recovery.removed,
          interrupted: recovery.interrupted?.id ?? null,
        },
        'install directory ready',
      );
      const daemon = new UpdaterDaemon(options, lock, journal, agentProcess, layout, ctx, recovery);
      daemon.lastSelfUpdate = readLastSelfUpdate(config.selfDir);
      // After a successful switch the supervisor sends this (new) updater its record.
      supervisorChannel()?.onRecord((record) => (daemon.lastSelfUpdate = record));
      return daemon;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** POST /update: the whole lifecycle for one upload (423 when another operation runs). */
  update(receive: UploadReceiver): Promise<OperationResult> {
    return this.runner.run('update', (op) => runUpdate(this.ctx, op, receive));
  }

  /** POST /stage: receive, verify, extract, install; kept as the staged release. */
  stage(receive: UploadReceiver): Promise<StageResult> {
    return this.runner.run('stage', (op) => runStage(this.ctx, op, receive));
  }

  /**
   * True when this host holds a committed release with this digest (active, prev, staged or
   * retained) whose directory is there: a pull of it needs its manifest only. Asked from inside
   * an operation's receive step, so no prune runs meanwhile.
   */
  async holds(sha256: string): Promise<boolean> {
    const known = this.ctx.journal.current.releases.find((r) => r.sha256 === sha256);
    return known !== undefined && (await releaseExists(this.ctx.layout, known.id));
  }

  /** POST /activate: activate the staged release with this digest. */
  activate(sha256: string): Promise<OperationResult> {
    return this.runner.run('activate', (op) => runActivate(this.ctx, op, sha256));
  }

  /** DELETE /staged: discard the staged release. */
  discardStaged(): Promise<{ discarded: ReleaseRecord | null }> {
    return this.runner.run('discard', (op) => runDiscard(this.ctx, op));
  }

  /** POST /rollback. */
  rollback(): Promise<OperationResult> {
    return this.runner.run('rollback', (op) => runRollback(this.ctx, op));
  }

  /**
   * POST /update-self, under the same single-flight runner ({@link runSelfUpdate}): resolves
   * once the release is staged (the route answers 202 and then calls {@link requestSelfSwitch});
   * a switch that never comes is recorded here as the failed `lastSelfUpdate` of its attempt.
   */
  updateSelf(receive: UploadReceiver): Promise<ReleaseRecord & { attempt: string }> {
    // The attempt id of the 202: a failure recorded here must carry it, as the supervisor's
    // records do, or the master cannot tell that its push is the one that failed.
    let attempt: string | null = null;
    return new Promise<ReleaseRecord & { attempt: string }>((accept, refuse) => {
      this.runner
        .run('update-self', (op) => {
          attempt = op.id;
          return runSelfUpdate(this.ctx, op, receive, {
            channel: supervisorChannel(),
            accept,
            switchRequested: () => new Promise<void>((resolve) => (this.switchRequested = resolve)),
          });
        })
        .catch((err: unknown) => {
          this.switchRequested = null;
          if ((err as { code?: unknown }).code === 'SWARM_ERR_SELF_UPDATE_FAILED') {
            this.lastSelfUpdate = {
              outcome: 'failed',
              ...(attempt ? { attempt } : {}),
              reason: (err as Error).message,
              finishedAt: new Date().toISOString(),
            };
          }
          refuse(err); // no effect once accepted
        });
    });
  }

  /** The 202 of an accepted self-update is on the wire: let the supervisor switch. */
  requestSelfSwitch(): void {
    this.switchRequested?.();
  }

  /** The host's state, for the `rolledBack` of an unexpected 500. */
  hostState(detail: string): Promise<RolledBackState> {
    return hostState(this.ctx, detail);
  }

  /** The retained releases with their slot. */
  releases(): ReleaseListing[] {
    const { active, prev, staged, releases } = this.journal.current;
    const slotOf = (r: ReleaseRecord): ReleaseListing['slot'] =>
      r.id === active?.id ? 'active' : r.id === prev?.id ? 'prev' : r.id === staged?.id ? 'staged' : null;
    return [...releases]
      .sort((a, b) => b.installedAt.localeCompare(a.installedAt))
      .map((r) => ({ ...r, slot: slotOf(r) }));
  }

  /** What /health reports; memory only, so it answers at once even mid-update. */
  status(): DaemonStatus {
    const s = this.journal.current;
    return {
      busy: this.runner.busy,
      operation: this.runner.operation,
      agent: this.agentProcess.status(),
      active: s.active,
      prev: s.prev,
      staged: s.staged,
      lastUpdate: s.history.at(-1) ?? null,
      lastSelfUpdate: this.lastSelfUpdate,
    };
  }

  /**
   * Shut down: refuse new operations, abort the one in flight (it undoes itself), stop
   * supervising and release the lock. The agent keeps running; the next updater adopts it.
   */
  close(reason: SwarmError = swarmError('SWARM_ERR_UPDATER_SHUTTING_DOWN')): Promise<void> {
    this.closing ??= (async () => {
      await this.runner.close(reason);
      this.agentProcess.close();
      await this.lock.release();
    })();
    return this.closing;
  }
}
