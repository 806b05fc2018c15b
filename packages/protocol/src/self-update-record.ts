import { isObject, isString, nullable, optional, type Check } from './checks.js';

/**
 * The outcome of the last self-update (`lastSelfUpdate` of `GET /health`). The supervisor
 * records a switch in full ({@link SwitchRecord}); an updater that gave up waiting for its
 * supervisor records `{ outcome: 'failed', attempt, reason, finishedAt }` itself.
 */
export interface SelfUpdateRecord {
  readonly outcome: 'succeeded' | 'failed';
  /** The attempt id the updater gave in its 202 (the master waits for this record). */
  readonly attempt?: string;
  /** Release ids of the self directory switched from and to. */
  readonly from?: string | null;
  readonly to?: string;
  readonly version?: string;
  /** Why it failed (absent on success). */
  readonly reason?: string;
  readonly startedAt?: string;
  readonly finishedAt: string;
}

/** A switch as the supervisor journals it: every field of the record but `attempt` and `reason`. */
export interface SwitchRecord extends SelfUpdateRecord {
  readonly from: string | null;
  readonly to: string;
  readonly version: string;
  readonly startedAt: string;
}

export const isSelfUpdateRecord: Check<SelfUpdateRecord> = (v): v is SelfUpdateRecord =>
  isObject(v) &&
  (v.outcome === 'succeeded' || v.outcome === 'failed') &&
  optional(isString)(v.attempt) &&
  optional(nullable(isString))(v.from) &&
  optional(isString)(v.to) &&
  optional(isString)(v.version) &&
  optional(isString)(v.reason) &&
  optional(isString)(v.startedAt) &&
  isString(v.finishedAt);

/**
 * The environment variable through which the supervisor hands a starting updater its record
 * of the last self-update (JSON, or absent): the supervisor's journal is its own, and the
 * updater never reads it.
 */
export const SELF_UPDATE_RECORD_ENV = 'SWARM_LAST_SELF_UPDATE';

/** The value of {@link SELF_UPDATE_RECORD_ENV} for `record`. */
export function encodeSelfUpdateRecord(record: SelfUpdateRecord | null): string {
  return JSON.stringify(record);
}

/** The record in an environment, or null when it is absent or malformed. */
export function decodeSelfUpdateRecord(value: string | undefined): SelfUpdateRecord | null {
  if (value === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return isSelfUpdateRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
