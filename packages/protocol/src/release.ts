import { isObject, isString, type Check } from './checks.js';

/** A release, wherever one appears (`active`, `prev`, `release`; wiki/reference/updater-api.md#release-object). */
export interface Release {
  /** `<version>-<sha256[0:12]>`, also the release's directory name on the worker. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** SHA-256 of the release tarball (lowercase hex). */
  readonly sha256: string;
  /** When the release was first committed on the host (ISO 8601). */
  readonly installedAt: string;
}

/** A release a host retains (`GET /releases`). */
export interface RetainedRelease extends Release {
  readonly slot: 'active' | 'prev' | 'staged' | null;
}

export const isRelease: Check<Release> = (v): v is Release =>
  isObject(v) &&
  isString(v.id) &&
  isString(v.name) &&
  isString(v.version) &&
  isString(v.sha256) &&
  isString(v.installedAt);

const SLOTS: readonly unknown[] = [null, 'active', 'prev', 'staged'];

export const isRetainedRelease: Check<RetainedRelease> = (v): v is RetainedRelease =>
  isRelease(v) && SLOTS.includes((v as unknown as Record<string, unknown>).slot);

/** `GET /releases`. */
export interface ReleaseList {
  readonly releases: readonly RetainedRelease[];
}

/** The releases body; undefined when malformed. */
export function parseReleaseList(body: unknown): ReleaseList | undefined {
  if (!isObject(body) || !Array.isArray(body.releases)) return undefined;
  return body.releases.every(isRetainedRelease) ? (body as unknown as ReleaseList) : undefined;
}
