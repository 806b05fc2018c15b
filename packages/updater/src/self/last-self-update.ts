import { decodeSelfUpdateRecord, SELF_UPDATE_RECORD_ENV, type SelfUpdateRecord } from '@swarm/protocol';

/**
 * The outcome of the last self-update, as the supervisor that started this updater handed it
 * over (its journal is its own: the updater never reads it). Read when the updater starts:
 * every self-update attempt ends with a fresh updater process (the new one, or the previous
 * one started again). Null without a supervisor, or from a supervisor older than the handover.
 */
export function readLastSelfUpdate(
  selfDir: string | null,
  env: NodeJS.ProcessEnv = process.env,
): SelfUpdateRecord | null {
  return selfDir ? decodeSelfUpdateRecord(env[SELF_UPDATE_RECORD_ENV]) : null;
}
