import { existsSync, readFileSync } from 'node:fs';
import tls from 'node:tls';

/** Where distributions keep the system's CA bundle; `SSL_CERT_FILE` first, as OpenSSL reads it. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The CAs a registry's certificate is verified against: Node's bundled roots, the system's CA
 * bundle, `NODE_EXTRA_CA_CERTS`, and `extraPem` (`--registry-ca`). Giving TLS a `ca` list
 * replaces Node's default store, so each source is read here explicitly.
 */
export function registryTrust(extraPem: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const system = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates?.('system');
  const pems: string[] = [...tls.rootCertificates, ...(system ?? readBundle(systemBundle(env)))];
  if (env.NODE_EXTRA_CA_CERTS) pems.push(...readBundle(env.NODE_EXTRA_CA_CERTS));
  if (extraPem) pems.push(extraPem);
  return pems;
}

function systemBundle(env: NodeJS.ProcessEnv): string | null {
  if (env.SSL_CERT_FILE) return env.SSL_CERT_FILE;
  return SYSTEM_BUNDLES.find((f) => existsSync(f)) ?? null;
}

function readBundle(file: string | null): string[] {
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    // An unreadable bundle adds nothing; the other sources still apply.
    return [];
  }
}

let cached: { readonly key: string; readonly context: tls.SecureContext } | null = null;

/**
 * One TLS context for every connection, kept for the next client with the same trust: parsing
 * the ~300 certificates of the CA list costs ~100 ms of CPU here, which an updater would
 * otherwise pay at every pull (it reads `--registry-ca` per pull). A changed `--registry-ca` or
 * environment makes a new one; the system bundle is read once per process, as Node reads its own.
 */
export function registrySecureContext(extraPem: string | undefined, env: NodeJS.ProcessEnv = process.env): tls.SecureContext {
  const key = JSON.stringify([extraPem ?? '', env.SSL_CERT_FILE ?? '', env.NODE_EXTRA_CA_CERTS ?? '']);
  if (cached?.key !== key) {
    cached = { key, context: tls.createSecureContext({ ca: registryTrust(extraPem, env), minVersion: 'TLSv1.2' }) };
  }
  return cached.context;
}
