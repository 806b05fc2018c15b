import { spawn } from 'node:child_process';
import { open, readlink } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { ReleaseManifest } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import type { Logger } from '@swarm/log';
import type { InstallLayout } from '../install-dir/install-layout.js';
import type { ReleaseRecord } from '../journal/journal.js';
import type { HealthCheck } from '../probe/check-result.js';
import { stopProcessGroup, waitUntilDead } from '../process/process-group.js';
import { isAlive, processIdentity, type ProcessIdentity } from '@swarm/release-dir';
import { capRunningLog, readLogTail, rotateBeforeStart } from './agent-log.js';
import { readAgentRecord, removeAgentRecord, repairAgentPid, writeAgentRecord } from './agent-record.js';
import { HealthMonitor } from './health-monitor.js';
import { RestartPolicy } from './restart-policy.js';

/** A release ready to run: its record, its real directory, its manifest. */
export interface AgentTarget {
  readonly release: ReleaseRecord;
  /** The resolved `releases/<id>` directory (never a path through `current`). */
  readonly dir: string;
  readonly manifest: ReleaseManifest;
}

/** One run of the agent, spawned by us or adopted from a previous updater. */
export interface AgentRun {
  readonly identity: ProcessIdentity;
  readonly target: AgentTarget;
  /** Size of agent.log when this run started: its output is what follows. */
  readonly logOffset: number;
  readonly adopted: boolean;
  /** How it ended (`with code 1`, `on signal SIGKILL`, …), null while it runs. */
  readonly exit: string | null;
  /** Resolves once the process is gone. */
  readonly exited: Promise<void>;
}

/** What GET /health shows of the agent. */
export interface AgentStatus {
  readonly pid: number | null;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly release: string | null;
}

/** Options of {@link AgentProcess}. */
export interface AgentProcessOptions {
  readonly layout: InstallLayout;
  readonly logger: Logger;
  /** The environment of a run of `target` (wiki/reference/layouts.md#release-tarball). */
  readonly envFor: (target: AgentTarget) => NodeJS.ProcessEnv;
  /** The single health check of `target`, used by the periodic monitor. */
  readonly checkFor: (target: AgentTarget) => HealthCheck | null;
  /** What should run now (the journal's active release), for restarts after a crash. */
  readonly desired: () => Promise<AgentTarget | null>;
  /** logs/agent.log is capped at this size. */
  readonly agentLogMaxBytes: number;
  readonly restartBackoffMs: number;
  readonly restartBackoffMaxMs: number;
  /** Period of health checks outside operations; 0 disables them. */
  readonly healthCheckIntervalMs: number;
  /** SIGTERM → SIGKILL grace when release.json sets no stopTimeoutMs. */
  readonly defaultStopTimeoutMs: number;
}

interface MutableRun extends AgentRun {
  exit: string | null;
  startedAtMs: number;
}

const ADOPTED_POLL_MS = 250;
const LOG_CAP_INTERVAL_MS = 15_000;

/**
 * Runs the agent: spawns `start` from the release's real directory in its own process group
 * (so it outlives an updater crash and can be adopted), with stdout/stderr appended to
 * logs/agent.log, and records it in agent.pid (its PID) and agent.json (PID *and* start
 * time). Stops it with SIGTERM to the group, then SIGKILL after the release's stopTimeoutMs.
 * Outside operations (`supervise(true)`) a crashed agent is restarted ({@link RestartPolicy})
 * and its health checked periodically ({@link HealthMonitor}); during an operation the
 * lifecycle alone decides what runs.
 */
export class AgentProcess {
  private run: MutableRun | null = null;
  private supervising = false;
  private logTimer: NodeJS.Timeout | null = null;
  private readonly closed = new AbortController();
  private readonly stopping = new WeakSet<AgentRun>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly restarts: RestartPolicy;
  private readonly health: HealthMonitor;

  constructor(private readonly options: AgentProcessOptions) {
    this.restarts = new RestartPolicy({
      logger: options.logger,
      backoffMs: options.restartBackoffMs,
      backoffMaxMs: options.restartBackoffMaxMs,
    });
    this.health = new HealthMonitor({
      logger: options.logger,
      intervalMs: options.healthCheckIntervalMs,
      signal: this.closed.signal,
      subject: () => {
        const run = this.run;
        if (!run || run.exit !== null) return null;
        return { release: run.target.release.id, check: options.checkFor(run.target) };
      },
    });
  }

  /** The current run (alive or not), if any. */
  get current(): AgentRun | null {
    return this.run;
  }

  status(): AgentStatus {
    const run = this.run;
    const running = run !== null && run.exit === null;
    const pid = run && run.identity.pid > 0 ? run.identity.pid : null;
    return { pid, running, healthy: running && this.health.healthy, release: run?.target.release.id ?? null };
  }

  /** Record the outcome of a probe. */
  markHealthy(healthy: boolean): void {
    this.health.mark(healthy);
  }

  /** The last output of `run` (the tail of agent.log since it started). */
  async outputOf(run: AgentRun, maxBytes = 4096): Promise<string> {
    return readLogTail(this.options.layout.agentLog, run.logOffset, maxBytes);
  }

  /** Start `target`. Any previous run must have been stopped. Spawn failures become an exited run. */
  start(target: AgentTarget): Promise<AgentRun> {
    return this.exclusive(() => this.startNow(target));
  }

  private async startNow(target: AgentTarget): Promise<AgentRun> {
    if (this.run && this.run.exit === null) {
      throw swarmError(
        'SWARM_ERR_UPDATER_INTERNAL',
        `start of ${target.release.id} while ${this.run.target.release.id} runs`,
      );
    }
    this.restarts.cancel();
    const { layout, logger } = this.options;
    const [command, ...args] = target.manifest.start;
    await rotateBeforeStart(layout.agentLog, this.options.agentLogMaxBytes);
    const log = await open(layout.agentLog, 'a', 0o640);
    let child;
    let logOffset: number;
    try {
      await log.write(
        `--- swarm-updater ${new Date().toISOString()}: starting ${target.release.id}: ${target.manifest.start.join(' ')}\n`,
      );
      logOffset = (await log.stat()).size;
      child = spawn(command!, args, {
        cwd: target.dir,
        env: this.options.envFor(target),
        // Own process group and session: the agent survives an updater crash (it is adopted
        // on restart) and a stop reaches everything it spawned.
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      await log.close();
    }
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    const pid = child.pid;
    const identity =
      pid !== undefined
        ? ((await processIdentity(pid)) ?? { pid, startTime: 'unknown' })
        : { pid: -1, startTime: 'none' };
    const run: MutableRun = {
      identity,
      target,
      logOffset,
      adopted: false,
      exit: null,
      exited,
      startedAtMs: performance.now(),
    };
    const finish = (how: string) => {
      if (run.exit !== null) return;
      run.exit = how;
      resolveExited();
      this.onExit(run);
    };
    child.once('error', (err) => {
      // Spawn failures (ENOENT, EACCES) emit 'error' and no 'exit'.
      if (pid === undefined) {
        void open(layout.agentLog, 'a')
          .then(async (h) => {
            await h.write(`--- swarm-updater: cannot start ${target.release.id}: ${err.message}\n`);
            await h.close();
          })
          .catch(() => undefined);
        finish(`before it started (${err.message})`);
      }
    });
    child.once('exit', (code, signal) => finish(signal ? `on signal ${signal}` : `with code ${code}`));
    child.unref();
    this.run = run;
    this.health.reset();
    if (pid !== undefined) {
      logger.info({ pid, release: target.release.id, cwd: target.dir }, 'agent started');
      await writeAgentRecord(layout, {
        ...identity,
        releaseId: target.release.id,
        startedAt: new Date().toISOString(),
      });
    }
    return run;
  }

  /**
   * Adopt the agent recorded in agent.json if it still runs `target` — same PID and start
   * time, and its working directory is the release's directory — instead of restarting it.
   */
  adopt(target: AgentTarget): Promise<AgentRun | null> {
    return this.exclusive(() => this.adoptNow(target));
  }

  private async adoptNow(target: AgentTarget): Promise<AgentRun | null> {
    const record = await readAgentRecord(this.options.layout);
    if (!record || record.releaseId !== target.release.id || !(await isAlive(record))) return null;
    const cwd = await readlink(`/proc/${record.pid}/cwd`).catch(() => null);
    if (cwd !== target.dir) return null;
    const identity: ProcessIdentity = { pid: record.pid, startTime: record.startTime };
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    const run: MutableRun = {
      identity,
      target,
      logOffset: 0,
      adopted: true,
      exit: null,
      exited,
      startedAtMs: performance.now(),
    };
    // Not our child: no 'exit' event, so watch /proc.
    void waitUntilDead(identity, ADOPTED_POLL_MS, this.closed.signal).then(
      () => {
        run.exit = 'while adopted (exit status unknown)';
        resolveExited();
        this.onExit(run);
      },
      () => undefined,
    );
    await repairAgentPid(this.options.layout, record).catch((err: unknown) =>
      this.options.logger.warn({ err }, 'cannot rewrite agent.pid for the adopted agent'),
    );
    this.run = run;
    // Healthy or not is for the monitor's first check (right after supervision resumes) to say.
    this.health.reset();
    this.options.logger.info({ pid: record.pid, release: target.release.id }, 'agent adopted');
    return run;
  }

  /** Stop the current run: SIGTERM to its group, SIGKILL after the release's stopTimeoutMs. */
  stop(): Promise<void> {
    return this.exclusive(() => this.stopNow());
  }

  private async stopNow(): Promise<void> {
    this.restarts.cancel();
    const run = this.run;
    if (run) {
      this.stopping.add(run);
      const timeoutMs = run.target.manifest.stopTimeoutMs ?? this.options.defaultStopTimeoutMs;
      if (run.identity.pid > 0) {
        const how = await stopProcessGroup(run.identity, { timeoutMs, exited: run.exited });
        this.options.logger.info({ pid: run.identity.pid, release: run.target.release.id, how }, 'agent stopped');
      }
      this.run = null;
      this.health.reset();
    }
    await removeAgentRecord(this.options.layout);
  }

  /** Stop whatever agent.json names (identity-checked), e.g. an agent of a release that is no longer active. */
  stopRecorded(): Promise<void> {
    return this.exclusive(() => this.stopRecordedNow());
  }

  private async stopRecordedNow(): Promise<void> {
    const record = await readAgentRecord(this.options.layout);
    if (record && (await isAlive(record))) {
      await stopProcessGroup(record, { timeoutMs: this.options.defaultStopTimeoutMs });
      this.options.logger.info(
        { pid: record.pid, release: record.releaseId },
        'stopped an agent left by a previous updater',
      );
    }
    await removeAgentRecord(this.options.layout);
  }

  /**
   * Turn supervision on (outside operations: restart after crashes, periodic health checks,
   * log cap) or off (during an operation, which alone decides what runs).
   */
  supervise(on: boolean): void {
    this.supervising = on;
    if (!on) {
      this.restarts.cancel();
      this.health.stop();
      return;
    }
    if (!this.logTimer) {
      this.logTimer = setInterval(() => void this.capLog(), LOG_CAP_INTERVAL_MS).unref();
    }
    this.health.start();
    if (this.run === null || this.run.exit !== null) this.scheduleRestart();
  }

  /** Stop supervising and forget timers; the agent itself keeps running (it is adopted next time). */
  close(): void {
    this.supervising = false;
    this.restarts.cancel();
    this.health.stop();
    if (this.logTimer) clearInterval(this.logTimer);
    this.logTimer = null;
    this.closed.abort();
  }

  /**
   * Starts and stops never interleave: a crash restart that began just before an operation
   * took over finishes first, and the operation's stop then sees (and stops) its agent.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private onExit(run: MutableRun): void {
    if (run !== this.run || this.closed.signal.aborted) return;
    this.health.reset();
    if (this.stopping.has(run)) return;
    const livedMs = performance.now() - run.startedAtMs;
    this.options.logger.warn(
      { pid: run.identity.pid, release: run.target.release.id, exit: run.exit, livedMs: Math.round(livedMs) },
      'agent exited',
    );
    this.restarts.ranFor(livedMs);
    if (this.supervising) this.scheduleRestart();
  }

  /** Start the desired release again once the restart policy says so, unless something runs by then. */
  private scheduleRestart(): void {
    if (!this.supervising) return;
    this.restarts.schedule(async () => {
      if (!this.supervising || (this.run !== null && this.run.exit === null)) return;
      const target = await this.options.desired();
      if (!target) return;
      await this.exclusive(async () => {
        // An operation may have taken over while `desired` was read: it decides now.
        if (!this.supervising || (this.run !== null && this.run.exit === null)) return;
        this.options.logger.info(
          { release: target.release.id, attempt: this.restarts.attempts },
          'restarting the agent',
        );
        await this.startNow(target);
      });
    });
  }

  private async capLog(): Promise<void> {
    try {
      if (await capRunningLog(this.options.layout.agentLog, this.options.agentLogMaxBytes)) {
        this.options.logger.info(
          { maxBytes: this.options.agentLogMaxBytes },
          'agent log capped (copied to agent.log.1)',
        );
      }
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot cap the agent log');
    }
  }
}
