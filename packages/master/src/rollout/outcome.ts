import type { ErrorCode } from '@swarm/errors';

/** How a host ended in a rollout (wiki/reference/cli.md). */
export type Outcome = 'updated' | 'up_to_date' | 'rolled_back' | 'failed' | 'skipped' | 'staged';

/** A release as the updater reports it. */
export interface ReleaseRef {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly installedAt?: string;
}

/** One host's line in the result of `swarm update` / `swarm rollback`. */
export interface HostResult {
  readonly host: string;
  readonly outcome: Outcome;
  /** The release active on the host afterwards, as far as we know (null: none or unknown). */
  readonly release: ReleaseRef | null;
  readonly durationMs: number;
  readonly error: { readonly code: ErrorCode | string; readonly message: string } | null;
}

/** The phases a host goes through, for live progress output. */
export type HostPhase = 'queued' | 'checking' | 'uploading' | 'pulling' | 'applying' | 'rolling-back' | 'done';

/** Events a rollout emits while it runs (the CLI renders them; logs go to stderr). */
export type RolloutEvent =
  | { readonly type: 'phase'; readonly host: string; readonly phase: HostPhase }
  | { readonly type: 'progress'; readonly host: string; readonly bytesSent: number; readonly totalBytes: number }
  | { readonly type: 'done'; readonly result: HostResult };

/** True when an outcome counts against the failure budget and makes the exit code 1. */
export function isFailure(outcome: Outcome, kind: 'update' | 'rollback' | 'activate'): boolean {
  if (outcome === 'failed' || outcome === 'skipped') return true;
  return kind !== 'rollback' && outcome === 'rolled_back';
}
