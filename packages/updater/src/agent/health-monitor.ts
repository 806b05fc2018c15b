import type { Logger } from '@swarm/log';
import { CHECK_TIMEOUT_MS, type HealthCheck } from '../probe/check-result.js';

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  readonly logger: Logger;
  /** Period of checks while healthy; 0 disables them. */
  readonly intervalMs: number;
  /**
   * What to check now: the running agent's release and its single health check (null: it is
   * running, which is all it declares), or null when no agent runs.
   */
  readonly subject: () => { readonly release: string; readonly check: HealthCheck | null } | null;
  /** Aborts a check in flight when the updater closes. */
  readonly signal: AbortSignal;
}

const UNHEALTHY_CHECK_MS = 1_000;

/**
 * Whether the agent is healthy, for `GET /health`: set by the probe of an operation
 * ({@link mark}), and outside operations kept up to date by periodic checks — every
 * `intervalMs` while healthy, every second while not (yet), so that /health turns healthy
 * soon after a restart.
 */
export class HealthMonitor {
  private current = false;
  private running = false;
  private checking = false;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped whenever the subject changes, so a check of an earlier run never decides. */
  private generation = 0;

  constructor(private readonly options: HealthMonitorOptions) {}

  get healthy(): boolean {
    return this.current;
  }

  /** Record a verdict (a probe's), or reset it to unhealthy when a run starts or ends. */
  mark(healthy: boolean): void {
    this.current = healthy;
  }

  /** A new run, or none: unknown until checked, so unhealthy. */
  reset(): void {
    this.generation += 1;
    this.current = false;
  }

  /** Check periodically (outside operations). */
  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stop checking (an operation takes over, or the updater closes). */
  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const interval = this.options.intervalMs;
    if (this.timer || interval <= 0 || !this.running) return;
    const delay = this.current ? interval : Math.min(interval, UNHEALTHY_CHECK_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const subject = this.options.subject();
    if (!this.running || this.checking || !subject) return;
    const generation = this.generation;
    this.checking = true;
    try {
      const result = subject.check
        ? await subject.check(CHECK_TIMEOUT_MS, this.options.signal)
        : { ok: true, detail: 'running' };
      if (generation !== this.generation || !this.running) return;
      if (result.ok !== this.current) {
        this.options.logger[result.ok ? 'info' : 'warn'](
          { release: subject.release, detail: result.detail },
          result.ok ? 'agent healthy' : 'agent unhealthy',
        );
      }
      this.current = result.ok;
    } catch (err) {
      this.options.logger.debug({ err }, 'health check aborted');
    } finally {
      this.checking = false;
    }
  }
}
