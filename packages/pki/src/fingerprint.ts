import { createHash, X509Certificate } from 'node:crypto';

/**
 * The pin of a certificate: lowercase hex SHA-256 of its DER, no colons — the same value as
 * `openssl x509 -fingerprint -sha256`, lowercased with the colons removed.
 */
export function fingerprint(cert: X509Certificate | string | Buffer): string {
  const der =
    cert instanceof X509Certificate ? cert.raw : typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  return createHash('sha256').update(der).digest('hex');
}

/** Normalize `AB:CD:…` (Node's `fingerprint256`, openssl's output) to our pin form. */
export function normalizeFingerprint(value: string): string {
  return value.replaceAll(':', '').toLowerCase();
}
