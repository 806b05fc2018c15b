import { swarmError } from '@swarm/errors';

/** A repository on a registry: where manifests and blobs live. */
export interface Repository {
  /** `HOST[:PORT]`, as written (the key of credentials and of `--registry-plain-http`). */
  readonly registry: string;
  /** The repository's path on the registry, e.g. `team/web`. */
  readonly repository: string;
}

/** `HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]`, parsed. */
export interface ImageReference extends Repository {
  readonly tag: string | null;
  /** `sha256:<64 hex>` when the reference names a digest. */
  readonly digest: string | null;
}

// The distribution spec's grammar: path components of lower-case alphanumerics joined by
// `.`, `_`, `__` or runs of `-`; tags of up to 128 characters; digests here only sha256.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** True for `sha256:` and 64 lower-case hex digits. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * Parse a reference. The first path component is always the registry (there is no default
 * registry: a fleet updater does not guess where its code comes from). Throws
 * SWARM_ERR_USAGE_INVALID naming the part at fault.
 */
export function parseReference(text: string, what = 'the reference'): ImageReference {
  const bad = (why: string) =>
    swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `${what} ${JSON.stringify(text)} is not HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]: ${why}`,
    );
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`the digest ${JSON.stringify(digest)} is not sha256: and 64 lower-case hex digits`);
  }
  const slash = rest.indexOf('/');
  if (slash === -1) throw bad('no registry host (the part before the first /)');
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry)) throw bad(`${JSON.stringify(registry)} is not a host name or address with an optional port`);
  const port = /:(\d+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad(`the port ${port} is not 1-65535`);
  let path = rest.slice(slash + 1);
  let tag: string | null = null;
  const colon = path.lastIndexOf(':');
  if (colon !== -1) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag ${JSON.stringify(tag)} is not 1-128 of A-Z a-z 0-9 _ . - (not starting with . or -)`);
  }
  if (path === '') throw bad('no repository');
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) {
      throw bad(`the repository component ${JSON.stringify(component)} is not lower-case letters and digits joined by . _ __ or -`);
    }
  }
  if (path.length > 255) throw bad('the repository is longer than 255 characters');
  return { registry, repository: path, tag, digest };
}

/** The reference as text: `HOST/REPO[:TAG][@DIGEST]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
