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

/** The `200` of `POST /stage`: the release now staged, or `null` with `unchanged` when it is the active one. */
export interface StageAnswer {
  readonly staged: Release | null;
  readonly unchanged?: true;
}

/** The `200` of `DELETE /staged`: the release no longer staged, or null when none was. */
export interface DiscardAnswer {
  readonly discarded: Release | null;
}

/** The body of `POST /activate`. */
export interface ActivateRequest {
  /** The staged release's digest: 64 hex digits, compared in lowercase. */
  readonly sha256: string;
}

/** The stage answer; undefined when malformed. */
export function parseStageAnswer(body: unknown): StageAnswer | undefined {
  if (!isObject(body) || !nullable(isRelease)(body.staged)) return undefined;
  if (body.staged === null && body.unchanged !== true) return undefined;
  return body as unknown as StageAnswer;
}

/** The discard answer; undefined when malformed. */
export function parseDiscardAnswer(body: unknown): DiscardAnswer | undefined {
  return isObject(body) && nullable(isRelease)(body.discarded) ? (body as unknown as DiscardAnswer) : undefined;
}

/** The activate request, its digest in lowercase; undefined when it is not `{ "sha256": "<64 hex>" }`. */
export function parseActivateRequest(body: unknown): ActivateRequest | undefined {
  if (!isObject(body) || typeof body.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(body.sha256)) return undefined;
  return { sha256: body.sha256.toLowerCase() };
}
