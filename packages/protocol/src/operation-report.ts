import { isObject, isString, nullable, optional, type Check } from './checks.js';
import { isRelease, type Release } from './release.js';

/**
 * What an operation does. The wire types below take any string where this union is meant, so
 * that a master keeps reading the health of a newer updater that has more kinds.
 */
export type OperationKind = 'update' | 'rollback' | 'update-self' | 'stage' | 'activate' | 'discard';

/** How an operation ended (wiki/reference/layouts.md#the-journal). */
export type OperationOutcome =
  'updated' | 'unchanged' | 'rolled_back' | 'failed' | 'interrupted' | 'staged' | 'discarded';

/** The operation in flight (`operation` of `GET /health`). */
export interface OperationInfo {
  readonly id: string;
  readonly kind: string;
  /** The step running, or `revert:<step>` while a failure is being undone. */
  readonly phase: string;
  readonly startedAt: string;
}

/** The error of a finished operation. */
export interface OperationError {
  readonly code: string;
  readonly message: string;
  /** Probe detail or the tail of the install output, shortened. */
  readonly detail?: string;
}

/** One finished operation (`lastUpdate` of `GET /health`: the newest entry of the journal's history). */
export interface OperationReport {
  readonly id: string;
  readonly kind: string;
  /** The release the operation was about (the pushed one, or the one rolled back to). */
  readonly release: Release | null;
  readonly outcome: string;
  /** The last phase reached. */
  readonly phase: string | null;
  readonly error: OperationError | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** For `interrupted`: what recovery did (`reverted` or `completed`). */
  readonly recovery?: string;
}

export const isOperationInfo: Check<OperationInfo> = (v): v is OperationInfo =>
  isObject(v) && isString(v.id) && isString(v.kind) && isString(v.phase) && isString(v.startedAt);

const isOperationError: Check<OperationError> = (v): v is OperationError =>
  isObject(v) && isString(v.code) && isString(v.message) && optional(isString)(v.detail);

export const isOperationReport: Check<OperationReport> = (v): v is OperationReport =>
  isObject(v) &&
  isString(v.id) &&
  isString(v.kind) &&
  nullable(isRelease)(v.release) &&
  isString(v.outcome) &&
  nullable(isString)(v.phase) &&
  nullable(isOperationError)(v.error) &&
  isString(v.startedAt) &&
  isString(v.finishedAt) &&
  optional(isString)(v.recovery);
