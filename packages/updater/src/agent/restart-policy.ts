import type { Logger } from '@swarm/log';

/** Options of {@link RestartPolicy}. */
export interface RestartPolicyOptions {
  readonly logger: Logger;
  /** The first delay after a crash; each crash in a row doubles it. */
  readonly backoffMs: number;
  /** The longest delay; a run that lived longer than this resets the count. */
  readonly backoffMaxMs: number;
}

/**
 * When to start the agent again after it crashed: exponential backoff from `backoffMs` to
 * `backoffMaxMs`, reset by a run that lasted longer than the longest delay. It only decides
 * when; what to start, and whether anything still should, is the restart function's call.
 */
export class RestartPolicy {
  private crashes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: RestartPolicyOptions) {}

  /** Crashes in a row so far (the attempt number of the next restart). */
  get attempts(): number {
    return this.crashes;
  }

  /** A run ended after `livedMs`: long enough, and the next crash starts the backoff over. */
  ranFor(livedMs: number): void {
    if (livedMs > this.options.backoffMaxMs) this.crashes = 0;
  }

  /** Run `restart` after the current backoff, unless one is already scheduled. A restart that throws is retried. */
  schedule(restart: () => Promise<void>): void {
    if (this.timer) return;
    const { backoffMs, backoffMaxMs, logger } = this.options;
    const delay = Math.min(backoffMaxMs, backoffMs * 2 ** Math.min(this.crashes, 30));
    this.crashes += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      restart().catch((err: unknown) => {
        logger.error({ err }, 'agent restart failed');
        this.schedule(restart);
      });
    }, delay);
    this.timer.unref();
  }

  /** Forget the scheduled restart, if any. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
