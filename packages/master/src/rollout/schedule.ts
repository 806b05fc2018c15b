/**
 * The rollout scheduler: canary hosts alone first, then the rest at most `concurrency` at a
 * time, and a failure budget counted over the whole rollout (not per batch).
 *
 * INVARIANTS
 * - A host is started only while `failures <= maxFailures` and the rollout is not aborted;
 *   once either stops holding, every host not yet started ends `skipped` (or `interrupted`
 *   when the signal fired) and is never contacted.
 * - Hosts already started always run to their own end: stopping a rollout never leaves a
 *   host half-applied by us (the updater finishes or rolls back by itself).
 * - No non-canary host starts before every canary host has finished.
 * - Results come back in the order of `hosts`, one per host.
 */

/** How a host's turn ended, as far as the scheduler needs to know. */
export interface TurnResult {
  /** True when this host counts against the failure budget. */
  readonly failed: boolean;
}

/** Options of {@link schedule}. */
export interface ScheduleOptions {
  /** Hosts that run alone, first (the first `canary` of the list). */
  readonly canary: number;
  /** Hosts in flight at once after the canaries. */
  readonly concurrency: number;
  /** The rollout stops starting hosts once more than this many have failed. */
  readonly maxFailures: number;
  /** Abort: stop starting new hosts. */
  readonly signal?: AbortSignal;
}

/** What happened to a host the scheduler never started. */
export type NotStarted = { readonly notStarted: 'budget' | 'interrupted' };

/**
 * Run `turn` for each host per the options. Returns, in input order, each turn's result or
 * `{ notStarted }` for hosts that were never started.
 */
export async function schedule<H, R extends TurnResult>(
  hosts: readonly H[],
  options: ScheduleOptions,
  turn: (host: H, index: number) => Promise<R>,
): Promise<(R | NotStarted)[]> {
  const results: (R | NotStarted | undefined)[] = new Array(hosts.length).fill(undefined);
  let failures = 0;
  let next = 0;
  const canaryEnd = Math.min(Math.max(0, options.canary), hosts.length);
  const stopReason = (): NotStarted['notStarted'] | null => {
    if (options.signal?.aborted) return 'interrupted';
    return failures > options.maxFailures ? 'budget' : null;
  };

  // One lane runs hosts one after another from the shared cursor, up to `end`.
  const lane = async (end: number): Promise<void> => {
    while (next < end && stopReason() === null) {
      const index = next++;
      const result = await turn(hosts[index]!, index);
      results[index] = result;
      if (result.failed) failures++;
    }
  };
  const runStage = async (end: number, width: number): Promise<void> => {
    const lanes = Math.max(1, Math.min(width, end - next));
    await Promise.all(Array.from({ length: lanes }, () => lane(end)));
  };

  await runStage(canaryEnd, Math.max(1, options.concurrency));
  await runStage(hosts.length, Math.max(1, options.concurrency));

  const reason = stopReason() ?? 'budget';
  return results.map((r) => r ?? { notStarted: reason });
}
