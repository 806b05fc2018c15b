// Names: host names, the reserved `master`, trust domains.
export { DEFAULT_TRUST_DOMAIN, assertHostName, assertTrustDomain } from './names.js';

// Identities: SPIFFE IDs in the one URI SAN of each certificate (never the CN).
export { parseSpiffeId, type Role, type Identity } from './spiffe.js';
export { identityOf, identityOfPeer, parseCertificate } from './identity.js';

// Issuing: the CA and leaf certificates for the three roles (node-forge lives here only).
export {
  createCa,
  issueCertificate,
  type CertifiedKey,
  type CreateCaOptions,
  type IssueOptions,
} from './certificates.js';
export { generateRsaKeyPair, type KeyPairPem } from './keys.js';

// Pins: SHA-256 fingerprints of certificate DER.
export { fingerprint, normalizeFingerprint } from './fingerprint.js';

// Files: private keys 0600 in 0700 directories, written atomically.
export { ensurePrivateDir, writeFileAtomic, PRIVATE_FILE_MODE, PRIVATE_DIR_MODE } from './secure-files.js';

// Worker bundles: what `swarm enroll` writes and `swarm updater` reads.
export {
  writeWorkerBundle,
  readWorkerBundle,
  BUNDLE_FILES,
  type WorkerBundle,
  type HostInfo,
} from './worker-bundle.js';
