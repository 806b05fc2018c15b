import { swarmError } from '@swarm/errors';
import { HOST_NAME_PATTERN, RESERVED_HOST_NAMES, TRUST_DOMAIN_PATTERN } from './names.js';

/** The three roles a swarm certificate can carry. */
export type Role = 'master' | 'updater' | 'agent';

/** Who a certificate speaks for, read from its single SPIFFE URI SAN. */
export interface Identity {
  readonly role: Role;
  /** The host name for updater and agent identities; null for the master. */
  readonly host: string | null;
  readonly trustDomain: string;
  /** The URI SAN itself, e.g. `spiffe://swarm.local/host/web-1/updater`. */
  readonly uri: string;
}

/**
 * The SPIFFE ID of a role (SPIFFE X.509-SVID: exactly one URI SAN per leaf).
 * `spiffe://<td>/master`, `spiffe://<td>/host/<name>/updater`, `spiffe://<td>/host/<name>/agent`.
 */
export function spiffeId(trustDomain: string, role: Role, host?: string | null): string {
  if (role === 'master') return `spiffe://${trustDomain}/master`;
  if (!host) throw new TypeError(`role ${role} needs a host name`);
  return `spiffe://${trustDomain}/host/${host}/${role}`;
}

const ID_PATTERN = /^spiffe:\/\/([^/]+)\/(?:(master)|host\/([^/]+)\/(updater|agent))$/;

/**
 * Parse a SPIFFE ID into an identity, or throw SWARM_ERR_PKI_IDENTITY_INVALID.
 * The grammar is closed: anything but the three shapes above is refused, and a host path
 * segment can never be `master`, so no host name yields the master role.
 */
export function parseSpiffeId(uri: string): Identity {
  const m = ID_PATTERN.exec(uri);
  const trustDomain = m?.[1];
  if (!m || !trustDomain || !TRUST_DOMAIN_PATTERN.test(trustDomain)) {
    throw swarmError('SWARM_ERR_PKI_IDENTITY_INVALID', `"${uri}" is not a swarm SPIFFE ID`);
  }
  if (m[2] === 'master') return { role: 'master', host: null, trustDomain, uri };
  const host = m[3]!;
  if (!HOST_NAME_PATTERN.test(host) || RESERVED_HOST_NAMES.has(host)) {
    throw swarmError('SWARM_ERR_PKI_IDENTITY_INVALID', `"${uri}" names an invalid host`);
  }
  return { role: m[4] as Role, host, trustDomain, uri };
}
