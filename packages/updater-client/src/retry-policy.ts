/** Retries of requests the updater refused without doing anything (423 busy, 503 shutting down). */
export interface RetryOptions {
  /** Attempts in all, the first included (1 = never retry). */
  readonly attempts: number;
  /** First backoff; it doubles on each retry. */
  readonly baseDelayMs: number;
  /**
   * Longest wait before one retry. A `Retry-After` longer than this ends the retries: the
   * client never retries earlier than the updater asked.
   */
  readonly maxDelayMs: number;
}

/**
 * Default retries: 5 attempts, 0.5 s doubling to at most 30 s — about a minute of patience
 * for an updater that is busy with another operation or restarting.
 */
export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Statuses that promise nothing was applied, so the request can be sent again: 423 (another
 * operation is in flight) and 503 (the updater is shutting down). Nothing else is retried —
 * in particular no transport failure, since a request that may have been applied must never
 * be sent twice.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([423, 503]);

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only something shaped like a date: V8's Date.parse also "understands" '-1' or '1.5'.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before retry number `retry` (1 for the first retry), or null to give up: when
 * attempts are exhausted or the updater asks for a longer wait than `maxDelayMs`.
 *
 * Exponential backoff with "equal jitter" (half fixed, half random) so that masters retrying
 * the same host do not fall into step; `Retry-After` is a floor, never shortened.
 */
export function retryDelay(
  retry: number,
  retryAfterMs: number | undefined,
  options: RetryOptions,
  random: () => number = Math.random,
): number | null {
  if (retry >= options.attempts) return null;
  if (retryAfterMs !== undefined && retryAfterMs > options.maxDelayMs) return null;
  const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  const jittered = backoff / 2 + random() * (backoff / 2);
  return Math.round(Math.max(retryAfterMs ?? 0, jittered));
}
