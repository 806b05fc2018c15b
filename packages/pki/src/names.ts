import { swarmError } from '@swarm/errors';

/** Host names: DNS-label shaped, lowercase (wiki/reference/updater-api.md#transport-and-identity). */
export const HOST_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names that can never be a host: `master` is the master identity's own path. */
export const RESERVED_HOST_NAMES: ReadonlySet<string> = new Set(['master']);

/**
 * SPIFFE trust domain names: lowercase letters, digits, dots, dashes and underscores
 * (SPIFFE ID spec §2.1), kept to 255 characters.
 */
export const TRUST_DOMAIN_PATTERN = /^[a-z0-9._-]{1,255}$/;

/** Default trust domain of `swarm init`. */
export const DEFAULT_TRUST_DOMAIN = 'swarm.local';

/** Throw a coded error unless `name` is a usable host name. */
export function assertHostName(name: string): void {
  if (RESERVED_HOST_NAMES.has(name)) {
    throw swarmError('SWARM_ERR_HOST_NAME_RESERVED', `host name "${name}" is reserved for the master identity`);
  }
  if (!HOST_NAME_PATTERN.test(name)) {
    throw swarmError(
      'SWARM_ERR_HOST_NAME_INVALID',
      `host name "${name.length > 80 ? `${name.slice(0, 80)}…` : name}" is invalid: use 1-63 lowercase letters, digits and inner hyphens`,
    );
  }
}

/** Throw a coded error unless `td` is a usable trust domain. */
export function assertTrustDomain(td: string): void {
  if (!TRUST_DOMAIN_PATTERN.test(td)) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `trust domain "${td}" is invalid: use lowercase letters, digits, dots, dashes and underscores`,
    );
  }
}
