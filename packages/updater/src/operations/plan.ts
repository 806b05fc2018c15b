import type { UpdaterConfig } from '../config/config-keys.js';

/**
 * The steps of the lifecycle, in order. An update runs all of them; a rollback runs the
 * activation half backwards onto `prev` (wiki/reference/updater-api.md, issue 3 §6):
 *
 *   receive → verify → extract → install → activate → restart → probe → commit → prune
 *                                           rollback: activate → restart → probe → commit
 *   stage:  receive → verify → extract → install → commit (as staged)
 *                                           activate: activate → restart → probe → commit → prune
 *
 * Each step has a deadline, a journal phase (written before its side effects) and fault
 * points `before:<step>` / `after:<step>`.
 */
export const UPDATE_STEPS = [
  'receive',
  'verify',
  'extract',
  'install',
  'activate',
  'restart',
  'probe',
  'commit',
  'prune',
] as const;
export const ROLLBACK_STEPS = ['activate', 'restart', 'probe', 'commit'] as const;
/** A stage is the update's first half, then a commit that records the staged release. */
export const STAGE_STEPS = ['receive', 'verify', 'extract', 'install', 'commit'] as const;
/** An activation is the update's second half, from a staged release. */
export const ACTIVATE_STEPS = ['activate', 'restart', 'probe', 'commit', 'prune'] as const;

export type StepName = (typeof UPDATE_STEPS)[number];

/** Extra time a step gets beyond its own inner timeout, so the inner, more precise error wins. */
const SLACK_MS = 10_000;

/** Deadline of each step. `probeDeadlineMs` and `stopTimeoutMs` come from the release when it sets them. */
export function stepDeadlines(
  config: UpdaterConfig,
  release: { probeDeadlineMs?: number; stopTimeoutMs?: number } = {},
): Record<StepName, number> {
  const stopMs = release.stopTimeoutMs ?? config.stopTimeoutMs;
  return {
    receive: config.receiveTimeoutMs,
    verify: 60_000,
    extract: config.extractTimeoutMs,
    install: config.installTimeoutMs + SLACK_MS,
    // Flushing the new tree to disk, the symlink flip and its fsync.
    activate: 120_000,
    // Stopping the old agent (grace + SIGKILL) and spawning the new one.
    restart: stopMs + 2 * SLACK_MS,
    probe: (release.probeDeadlineMs ?? config.probeDeadlineMs) + SLACK_MS,
    commit: 60_000,
    // Deleting old release trees can take a while on a journal-less ext4 (wiki/reference/platform-facts.md).
    prune: 600_000,
  };
}
