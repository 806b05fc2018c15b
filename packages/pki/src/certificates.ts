import { randomBytes, sign as rsaSign } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { swarmError } from '@swarm/errors';
import { generateRsaKeyPair } from './keys.js';
import { assertHostName, assertTrustDomain } from './names.js';
import { spiffeId, type Role } from './spiffe.js';

/** A certificate with its private key, both PEM. */
export interface CertifiedKey {
  readonly certPem: string;
  readonly keyPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Allowance for clocks that run a little behind the master's. */
const BACKDATE_MS = 5 * 60 * 1000;

/** Validity of a new CA: 10 years. */
export const CA_VALIDITY_DAYS = 3650;
/** Validity of a leaf: 2 years (renewal is a later feature; keep leaves well inside the CA). */
export const LEAF_VALIDITY_DAYS = 730;

/** Options of {@link createCa}. */
export interface CreateCaOptions {
  /** SPIFFE trust domain this CA speaks for, e.g. `swarm.local`. */
  readonly trustDomain: string;
  /** Lifetime in days (default {@link CA_VALIDITY_DAYS}). */
  readonly validityDays?: number;
}

/**
 * Create a self-signed CA: RSA-3072, SHA-256, `basicConstraints CA:true, pathlen:0`
 * and `keyUsage keyCertSign, cRLSign`, both critical (RFC 5280 §4.2.1.9, §4.2.1.3).
 */
export async function createCa(options: CreateCaOptions): Promise<CertifiedKey> {
  assertTrustDomain(options.trustDomain);
  const keys = await generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerial();
  setValidity(cert, new Date(Date.now() - BACKDATE_MS), options.validityDays ?? CA_VALIDITY_DAYS);
  const subject = [
    { name: 'commonName', value: `swarm CA ${options.trustDomain}` },
    { name: 'organizationName', value: 'swarm' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  sign(cert, keys.privateKeyPem);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** Options of {@link issueCertificate}. */
export interface IssueOptions {
  /** The issuing CA (certificate and key, PEM). */
  readonly ca: CertifiedKey;
  readonly trustDomain: string;
  readonly role: Role;
  /** Host name; required for `updater` and `agent`. */
  readonly host?: string;
  /** The host's DNS names or IP addresses, added as SANs of server certificates. */
  readonly addresses?: readonly string[];
  /**
   * Certify this public key (SPKI PEM) instead of generating a key pair — the hook for
   * CSR-based enrollment, where the private key never leaves the worker. `keyPem` is then ''.
   */
  readonly publicKeyPem?: string;
  /** Start of validity (default: now, backdated five minutes). */
  readonly notBefore?: Date;
  /** Lifetime in days (default {@link LEAF_VALIDITY_DAYS}). */
  readonly validityDays?: number;
}

/**
 * Issue a leaf certificate for a role. Each carries exactly one SPIFFE URI SAN naming the
 * role, a CN for people (`master`, `updater@<host>`, `<host>`), SKI/AKI, and:
 * - master: EKU clientAuth only — it can never serve;
 * - updater, agent: EKU serverAuth + clientAuth, DNS/IP SANs for the host's addresses plus
 *   `localhost` and `127.0.0.1` for local probes.
 */
export async function issueCertificate(options: IssueOptions): Promise<CertifiedKey> {
  const { role, trustDomain } = options;
  assertTrustDomain(trustDomain);
  if (role !== 'master') {
    if (!options.host) throw swarmError('SWARM_ERR_USAGE_INVALID', `a ${role} certificate needs a host name`);
    assertHostName(options.host);
  }
  const caCert = forge.pki.certificateFromPem(options.ca.certPem);
  const keys = options.publicKeyPem
    ? { publicKeyPem: options.publicKeyPem, privateKeyPem: '' }
    : await generateRsaKeyPair();

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = randomSerial();
  setValidity(
    cert,
    options.notBefore ?? new Date(Date.now() - BACKDATE_MS),
    options.validityDays ?? LEAF_VALIDITY_DAYS,
  );
  cert.setSubject([
    // UTF8String (RFC 5280 §4.1.2.6): `updater@h1` is not a PrintableString (no `@`), which
    // node-forge would write by default and strict parsers (Go's crypto/x509) refuse.
    { name: 'commonName', value: commonName(role, options.host), valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
    { name: 'organizationName', value: 'swarm' },
  ]);
  cert.setIssuer(caCert.subject.attributes);

  const altNames: { type: number; value?: string; ip?: string }[] = [
    { type: 6, value: spiffeId(trustDomain, role, options.host) },
  ];
  if (role !== 'master') altNames.push(...serverAltNames(options.addresses ?? []));

  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    role === 'master'
      ? { name: 'extKeyUsage', clientAuth: true }
      : { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  sign(cert, options.ca.keyPem);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

function commonName(role: Role, host: string | undefined): string {
  if (role === 'master') return 'master';
  return role === 'updater' ? `updater@${host}` : host!;
}

/** DNS/IP SANs: the given addresses plus localhost and 127.0.0.1, each once. */
function serverAltNames(addresses: readonly string[]): { type: number; value?: string; ip?: string }[] {
  const names = [...new Set([...addresses, 'localhost', '127.0.0.1'])];
  return names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }));
}

/** 128 random bits, positive and minimally encoded (RFC 5280 §4.1.2.2: ≤ 20 octets). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, notBefore: Date, days: number): void {
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + days * DAY_MS);
}

/**
 * Sign `cert` with SHA-256 and RSA PKCS#1 v1.5 — forge's default digest is SHA-1 (wiki/reference/platform-facts.md).
 * This is what forge's `cert.sign` does, with the RSA operation left to Node's native crypto:
 * forge's pure-JavaScript RSA-3072 signature costs 0.1–0.2 s of CPU per certificate, paid
 * at every enrollment (and by every test that builds a fleet).
 */
function sign(cert: forge.pki.Certificate, keyPem: string): void {
  const algorithm = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = algorithm;
  cert.siginfo.algorithmOid = algorithm;
  // Untyped in @types/node-forge, public in forge (x509.js), and what cert.sign calls.
  const { getTBSCertificate } = forge.pki as unknown as {
    getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1;
  };
  cert.tbsCertificate = getTBSCertificate(cert);
  const der = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = rsaSign('sha256', der, keyPem).toString('binary');
}
