import { isObject, isString, optional } from './checks.js';
import { isSelfUpdateRecord, type SelfUpdateRecord } from './self-update-record.js';

/*
 * The messages between the supervisor and the updater it started, over the Node IPC channel
 * (wiki/decisions/0007-self-update-supervisor.md). Both sides import them from here: the
 * updater never imports the supervisor, which a self-update never replaces, nor the reverse.
 */

/** Updater → supervisor: switch to a staged, verified release. */
export const SELF_UPDATE_REQUEST = 'swarm:self-update';
/** Supervisor → new updater: the record of the switch that started it. */
export const SELF_UPDATE_RECORD = 'swarm:self-update-record';
/** Updater → supervisor, just before it exits: why it could not start. */
export const START_FAILED = 'swarm:start-failed';

/** {@link SELF_UPDATE_REQUEST}. */
export interface SelfUpdateRequest {
  readonly type: typeof SELF_UPDATE_REQUEST;
  /** Release id, already extracted and verified under `<self-dir>/releases/<id>`. */
  readonly id: string;
  readonly version: string;
  /** Names this self-update end to end: the 202, the journal and `lastSelfUpdate` carry it. */
  readonly attempt?: string;
}

/** {@link SELF_UPDATE_RECORD}. */
export interface SelfUpdateRecordMessage {
  readonly type: typeof SELF_UPDATE_RECORD;
  readonly record: SelfUpdateRecord;
}

/**
 * {@link START_FAILED}: the error the updater printed, as the wire form
 * `{ code, message, ...details }` (wiki/reference/updater-api.md#error-body). It lets the
 * supervisor tell a refusal it must not retry (exit 2) from a crash it restarts. Updater
 * releases older than this message send nothing; the supervisor then has the exit status alone.
 */
export interface StartFailureReport {
  readonly type: typeof START_FAILED;
  readonly error: { readonly code?: unknown; readonly message?: unknown; readonly [detail: string]: unknown };
}

export function selfUpdateRequest(release: { id: string; version: string; attempt: string }): SelfUpdateRequest {
  return { type: SELF_UPDATE_REQUEST, id: release.id, version: release.version, attempt: release.attempt };
}

export function selfUpdateRecordMessage(record: SelfUpdateRecord): SelfUpdateRecordMessage {
  return { type: SELF_UPDATE_RECORD, record };
}

export function startFailureReport(error: Record<string, unknown>): StartFailureReport {
  return { type: START_FAILED, error };
}

export function isSelfUpdateRequest(message: unknown): message is SelfUpdateRequest {
  return (
    isObject(message) &&
    message.type === SELF_UPDATE_REQUEST &&
    isString(message.id) &&
    isString(message.version) &&
    optional(isString)(message.attempt)
  );
}

export function isSelfUpdateRecordMessage(message: unknown): message is SelfUpdateRecordMessage {
  return isObject(message) && message.type === SELF_UPDATE_RECORD && isSelfUpdateRecord(message.record);
}

export function isStartFailureReport(message: unknown): message is StartFailureReport {
  return isObject(message) && message.type === START_FAILED && isObject(message.error);
}
