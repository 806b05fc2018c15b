import { isIP, isIPv6 } from 'node:net';
import { swarmError } from '@swarm/errors';

/** The master's client identity (PEM): what it presents and the only CA it trusts. */
export interface MasterIdentity {
  /** The swarm CA certificate: the only issuer accepted for an updater's certificate. */
  readonly caPem: string;
  /** The master certificate (EKU clientAuth only), presented on every connection. */
  readonly certPem: string;
  /** The master private key. */
  readonly keyPem: string;
}

/** One updater, as the registry records it. */
export interface UpdaterTarget {
  /** The host's name: used in messages and error details, never for trust. */
  readonly host: string;
  /** DNS name or IP address of the updater; its certificate carries it as a SAN. */
  readonly address: string;
  /** The updater's port (8766 by default). */
  readonly port: number;
  /**
   * Lowercase hex SHA-256 of the updater leaf's DER (`fingerprint()` of @swarm/pki), or null
   * when none is recorded — then the client refuses to connect at all (fail closed).
   */
  readonly pin: string | null;
}

/**
 * Where an error happened, as it appears in its details. (A type alias, not an interface, so
 * that it fits `ErrorDetails`' index signature.)
 */
export type TargetDetails = {
  readonly host: string;
  readonly address: string;
  readonly port: number;
};

// A DNS name or IPv4/IPv6 literal; anything with a scheme, path, userinfo or port is refused so
// that the address cannot smuggle another origin into the URL built from it.
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * The origin of a target, `https://address:port` (IPv6 in brackets). Throws
 * SWARM_ERR_HOST_ADDRESS_INVALID for an address or port that cannot name one updater.
 */
export function originOf(target: UpdaterTarget): string {
  const { address, port } = target;
  if (typeof address !== 'string' || (isIP(address) === 0 && !DNS_NAME.test(address))) {
    throw swarmError(
      'SWARM_ERR_HOST_ADDRESS_INVALID',
      `host ${target.host} has an invalid address "${String(address)}"`,
      {
        host: target.host,
      },
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw swarmError(
      'SWARM_ERR_HOST_ADDRESS_INVALID',
      `host ${target.host} has an invalid updater port "${String(port)}"`,
      {
        host: target.host,
      },
    );
  }
  return `https://${isIPv6(address) ? `[${address}]` : address}:${port}`;
}

/**
 * The key under which a connection to `origin` is known: the WHATWG URL `host`
 * (`address:port`), which is also what undici hands to its connector.
 */
export function originKey(origin: string): string {
  return new URL(origin).host;
}

export function targetDetails(target: UpdaterTarget): TargetDetails {
  return { host: target.host, address: target.address, port: target.port };
}
