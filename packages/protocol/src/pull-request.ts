import { isObject } from './checks.js';

/**
 * The body of `POST /pull` (wiki/reference/updater-api.md#post-pull): which artifact to fetch,
 * by digest only — a tag is never enough to install (the master resolves tags).
 */
export interface PullRequest {
  /** `HOST[:PORT]` of the registry. */
  readonly registry: string;
  /** The repository on it, e.g. `team/web`. */
  readonly repository: string;
  /** The artifact manifest's digest, `sha256:<64 hex>`. */
  readonly digest: string;
  /** Stage the release (as `POST /stage`) instead of updating. */
  readonly stage: boolean;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Check the shape of a pull request; a string says what is wrong. The registry and
 * repository names are checked against the distribution grammar by the updater's OCI client.
 */
export function parsePullRequest(body: unknown): PullRequest | string {
  if (!isObject(body)) return 'the body is not a JSON object (content-type application/json)';
  if (body.tag !== undefined && body.digest === undefined) {
    return 'a tag is never enough to install: send the digest the master resolved it to';
  }
  for (const key of Object.keys(body)) {
    if (!['registry', 'repository', 'digest', 'stage'].includes(key)) return `unknown field "${key.slice(0, 40)}"`;
  }
  if (typeof body.registry !== 'string' || body.registry === '') return 'registry (HOST[:PORT]) is missing';
  if (typeof body.repository !== 'string' || body.repository === '') return 'repository is missing';
  if (body.digest === undefined) return 'digest is missing: the artifact is pulled by digest only, a tag is never enough';
  if (typeof body.digest !== 'string' || !DIGEST.test(body.digest)) {
    return 'digest is not sha256: followed by 64 lower-case hex digits';
  }
  if (body.stage !== undefined && typeof body.stage !== 'boolean') return 'stage must be true or false';
  return { registry: body.registry, repository: body.repository, digest: body.digest, stage: body.stage === true };
}
