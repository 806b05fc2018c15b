import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { swarmError } from '@swarm/errors';
import { parseSpiffeId, type Identity } from './spiffe.js';

// Node renders subjectAltName as `TYPE:value, TYPE:value`, quoting (JSON-style) any value
// that contains a separator, so a crafted DNS name cannot smuggle in a second URI entry.
const SAN_ENTRY = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;

/** The URI entries of a certificate's subjectAltName string. */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const uris: string[] = [];
  SAN_ENTRY.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = SAN_ENTRY.exec(subjectAltName)) !== null && m[0] !== '') {
    const raw = m[2] ?? '';
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (m[1] === 'URI') uris.push(value);
  }
  return uris;
}

/**
 * The identity a certificate speaks for, from its one URI SAN — never from its CN.
 * Throws SWARM_ERR_PKI_IDENTITY_INVALID when there is not exactly one swarm SPIFFE ID, or
 * when `trustDomain` is given and differs.
 */
export function identityOf(cert: X509Certificate | string | Buffer, trustDomain?: string): Identity {
  const x509 = cert instanceof X509Certificate ? cert : parseCertificate(cert);
  return identityFromSan(x509.subjectAltName, trustDomain);
}

/** Same as {@link identityOf} for a TLS peer certificate (`socket.getPeerCertificate()`). */
export function identityOfPeer(peer: PeerCertificate | undefined | null, trustDomain?: string): Identity {
  if (!peer || !peer.raw) throw swarmError('SWARM_ERR_PKI_IDENTITY_INVALID', 'the peer presented no certificate');
  return identityOf(peer.raw, trustDomain);
}

function identityFromSan(san: string | undefined, trustDomain: string | undefined): Identity {
  const uris = uriSans(san);
  if (uris.length !== 1) {
    throw swarmError(
      'SWARM_ERR_PKI_IDENTITY_INVALID',
      `the certificate has ${uris.length} URI SANs; exactly one is required`,
    );
  }
  const identity = parseSpiffeId(uris[0]!);
  if (trustDomain !== undefined && identity.trustDomain !== trustDomain) {
    throw swarmError(
      'SWARM_ERR_PKI_IDENTITY_INVALID',
      `the certificate belongs to trust domain "${identity.trustDomain}", not "${trustDomain}"`,
    );
  }
  return identity;
}

/** Parse a PEM or DER certificate, or throw SWARM_ERR_PKI_CERT_INVALID. */
export function parseCertificate(data: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (cause) {
    throw swarmError('SWARM_ERR_PKI_CERT_INVALID', `not a certificate: ${(cause as Error).message}`, {}, { cause });
  }
}
