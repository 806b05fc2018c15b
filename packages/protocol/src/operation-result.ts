import { isObject, nullable } from './checks.js';
import { isRelease, type Release } from './release.js';

/**
 * The body of a successful `POST /update` (200), `POST /update-self` (202) or
 * `POST /rollback` (200) (wiki/reference/updater-api.md#operation-result). Checked for what
 * the master relies on — an object whose releases are well formed; the rest is passed through.
 */
export interface OperationResult {
  readonly active?: Release | null;
  readonly prev?: Release | null;
  readonly release?: Release | null;
  readonly [key: string]: unknown;
}

/** An operation's result body; undefined when malformed. */
export function parseOperationResult(body: unknown): OperationResult | undefined {
  if (!isObject(body)) return undefined;
  for (const key of ['active', 'prev', 'release'] as const) {
    if (body[key] !== undefined && !nullable(isRelease)(body[key])) return undefined;
  }
  return body as OperationResult;
}

/** The `202` of `POST /update-self`: staged and verified; the supervisor switches once it is sent. */
export interface SelfUpdateAccepted {
  readonly accepted: true;
  readonly id: string;
  readonly version: string;
  /** Names this self-update: `lastSelfUpdate.attempt` carries it once it ends. */
  readonly attempt: string;
  readonly release: Release;
}
