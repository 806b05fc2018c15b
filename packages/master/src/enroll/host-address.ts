import { isIP } from 'node:net';
import { swarmError } from '@swarm/errors';

/** A DNS label: letters, digits and inner hyphens, 1-63 characters (RFC 1123 §2.1). */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Throw SWARM_ERR_HOST_ADDRESS_INVALID unless `address` is an IPv4/IPv6 address or a DNS
 * name. It becomes a SAN of the host's certificates and the address the master dials, so
 * a scheme, a port, a path or an IPv6 zone (`%eth0`, meaningless in a certificate) is refused.
 */
export function assertHostAddress(address: string): void {
  if (isIP(address) !== 0 && !address.includes('%')) return;
  const labels = address.split('.');
  const valid =
    address.length <= 253 &&
    labels.every((label) => LABEL.test(label)) &&
    // An all-numeric last label is a mistyped IP address, not a name (RFC 3696 §2).
    !/^\d+$/.test(labels[labels.length - 1] ?? '');
  if (!valid) {
    throw swarmError(
      'SWARM_ERR_HOST_ADDRESS_INVALID',
      `address "${address.length > 80 ? `${address.slice(0, 80)}…` : address}" is neither an IP address nor a DNS name`,
      { address },
    );
  }
}

/** Throw SWARM_ERR_USAGE_INVALID unless `port` is a TCP port number; `flag` names it. */
export function assertPort(port: number, flag: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw swarmError('SWARM_ERR_USAGE_INVALID', `${flag} must be a port number from 1 to 65535, not ${String(port)}`, {
      flag,
    });
  }
}
