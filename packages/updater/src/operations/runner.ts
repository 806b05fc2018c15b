import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { swarmError, type SwarmError } from '@swarm/errors';
import { faultPoint } from './fault-point.js';
import type { OperationKind } from '../journal/journal.js';

/** What GET /health shows of the operation in flight. */
export interface OperationInfo {
  readonly id: string;
  readonly kind: OperationKind;
  readonly phase: string;
  readonly startedAt: string;
}

/** Handed to an operation: its identity, its abort signal and the step executor. */
export interface OperationContext extends OperationInfo {
  /** Aborted when the updater shuts down. */
  readonly signal: AbortSignal;
  /**
   * Run one step: fault point `before:<name>`, journal the phase, run `fn` under a deadline,
   * fault point `after:<name>`. `fn` gets a signal aborted at the deadline or on shutdown; it
   * should stop promptly, and is given a short grace to settle before the step fails anyway.
   */
  step<T>(name: string, deadlineMs: number, fn: (signal: AbortSignal) => Promise<T>, options?: StepOptions): Promise<T>;
}

/** Options of one step. */
export interface StepOptions {
  /** Record the phase in the journal before running (default true). */
  readonly journal?: boolean;
  /** The error a deadline turns into (default SWARM_ERR_UPDATER_INTERNAL). */
  readonly onTimeout?: (deadlineMs: number) => SwarmError;
}

/** Hooks the daemon plugs in. */
export interface RunnerHooks {
  /** Persist the phase before the step's side effects (the journal's inFlight.phase). */
  onPhase(op: OperationInfo, phase: string): Promise<void>;
  /** A step ended (for logs and benchmarks): how long it took, and its error if it failed. */
  onStepEnd?(op: OperationInfo, step: string, ms: number, error?: unknown): void;
}

/** Seconds a client is told to wait (Retry-After) when the updater is busy. */
export const RETRY_AFTER_SECONDS = 5;
/** Time a step gets to settle after its signal is aborted, before the step fails regardless. */
const ABORT_GRACE_MS = 15_000;

/**
 * The single-flight executor of lifecycle operations (update, rollback).
 *
 * INVARIANTS
 * 1. At most one operation runs per updater, and one updater per install directory (the
 *    lock): `run` checks and claims `active` synchronously, before its first `await`, so two
 *    requests can never both pass the check. A second caller gets SWARM_ERR_UPDATER_BUSY (423,
 *    Retry-After) at once; nothing is queued.
 * 2. Every step runs under a deadline. A step past it is aborted through its signal and the
 *    operation fails with the step's timeout error; nothing waits forever.
 * 3. The journal records an operation's phase *before* the step's side effects, so after a
 *    crash recovery knows the furthest the operation may have got.
 * 4. `current` only ever names a directory `releases/<id>` that is complete: extraction writes
 *    into a dot-prefixed staging directory and the tree is renamed to `releases/<id>` only
 *    once extraction has settled and the digest has matched; `install` completes and the tree
 *    is flushed to disk before `activate` renames the new link over `current`. A partially
 *    extracted release has no name `current` could point to.
 * 5. An operation is committed by exactly one durable journal write (active, prev, history,
 *    inFlight cleared). Until that write, recovery treats the operation as not done: it puts
 *    `current` back on the journal's `active` (or removes it when there is none) and deletes
 *    the uncommitted release. So after any crash `current` resolves to a committed release.
 *    The one exception is a rollback, whose target is itself committed: recovery completes it.
 * 6. Pruning runs only after the commit and never deletes `active` or `prev`.
 * 7. When `run` settles — success or failure — the runner is idle again, and a failed
 *    operation has put `current` back on the journal's `active` (or removed it when there is
 *    none) before reporting its error.
 */
export class SingleFlightRunner {
  private active: (OperationInfo & { controller: AbortController; done: Promise<unknown> }) | null = null;
  private closedWith: SwarmError | null = null;

  constructor(private readonly hooks: RunnerHooks) {}

  /** True while an operation runs. */
  get busy(): boolean {
    return this.active !== null;
  }

  /** The operation in flight, if any. */
  get operation(): OperationInfo | null {
    if (!this.active) return null;
    const { id, kind, phase, startedAt } = this.active;
    return { id, kind, phase, startedAt };
  }

  /** Run `fn` as the one operation, or throw BUSY / SHUTTING_DOWN without running it. */
  run<T>(kind: OperationKind, fn: (op: OperationContext) => Promise<T>): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.active) {
      const { kind: busyKind, phase, startedAt } = this.active;
      return Promise.reject(
        swarmError('SWARM_ERR_UPDATER_BUSY', `another ${busyKind} is in flight (phase ${phase}, since ${startedAt})`, {
          operation: { kind: busyKind, phase, startedAt },
          retryAfter: RETRY_AFTER_SECONDS,
        }),
      );
    }
    const controller = new AbortController();
    const state = {
      id: randomUUID(),
      kind,
      phase: 'start',
      startedAt: new Date().toISOString(),
      controller,
      done: Promise.resolve() as Promise<unknown>,
    };
    this.active = state;
    const context: OperationContext = {
      get id() {
        return state.id;
      },
      get kind() {
        return state.kind;
      },
      get phase() {
        return state.phase;
      },
      get startedAt() {
        return state.startedAt;
      },
      signal: controller.signal,
      step: (name, deadlineMs, stepFn, options = {}) => this.step(state, name, deadlineMs, stepFn, options),
    };
    const done = (async () => {
      try {
        return await fn(context);
      } finally {
        this.active = null;
      }
    })();
    state.done = done.catch(() => undefined);
    return done;
  }

  private async step<T>(
    state: OperationInfo & { phase: string; controller: AbortController },
    name: string,
    deadlineMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
    options: StepOptions,
  ): Promise<T> {
    state.controller.signal.throwIfAborted();
    faultPoint(`before:${name}`);
    state.phase = name;
    const began = performance.now();
    try {
      if (options.journal !== false) await this.hooks.onPhase(state, name);
      const result = await withDeadline(name, deadlineMs, state.controller.signal, fn, options.onTimeout);
      this.hooks.onStepEnd?.(state, name, performance.now() - began);
      faultPoint(`after:${name}`);
      return result;
    } catch (err) {
      this.hooks.onStepEnd?.(state, name, performance.now() - began, err);
      throw err;
    }
  }

  /** Refuse new operations with `reason` and abort the one in flight; resolves once idle. */
  async close(reason: SwarmError): Promise<void> {
    this.closedWith = reason;
    const active = this.active;
    if (active) {
      active.controller.abort(reason);
      await active.done;
    }
  }
}

/**
 * Run `fn` with a signal aborted after `deadlineMs` or when `parent` aborts. If `fn` ignores
 * its signal it gets {@link ABORT_GRACE_MS} to settle, then the step fails regardless.
 */
async function withDeadline<T>(
  name: string,
  deadlineMs: number,
  parent: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
  onTimeout?: (deadlineMs: number) => SwarmError,
): Promise<T> {
  const controller = new AbortController();
  const timeoutError = () =>
    onTimeout?.(deadlineMs) ??
    swarmError('SWARM_ERR_UPDATER_INTERNAL', `step ${name} ran past its deadline of ${deadlineMs} ms`, { phase: name });
  const timer = setTimeout(() => controller.abort(timeoutError()), deadlineMs);
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  let graceTimer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    controller.signal.addEventListener(
      'abort',
      () => {
        graceTimer = setTimeout(() => reject(controller.signal.reason), ABORT_GRACE_MS);
      },
      { once: true },
    );
  });
  gaveUp.catch(() => undefined);
  try {
    const result = await Promise.race([fn(controller.signal), gaveUp]);
    // A step that finished its work but noticed the abort only late still failed its deadline.
    controller.signal.throwIfAborted();
    return result;
  } catch (err) {
    // Report the deadline (or shutdown) rather than the AbortError it caused downstream.
    if (controller.signal.aborted && !isSwarmErrorLike(err)) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    parent.removeEventListener('abort', onParentAbort);
  }
}

function isSwarmErrorLike(err: unknown): boolean {
  return (
    typeof (err as { code?: unknown })?.code === 'string' &&
    String((err as { code: string }).code).startsWith('SWARM_ERR_')
  );
}
