// Release signing (SPEC §12; wiki/signing.md): Ed25519 keys from node:crypto, DSSE envelopes
// over the pre-authentication encoding, and the release statement they carry.
export {
  RELEASE_KEY_FILE,
  RELEASE_PUB_FILE,
  generateReleaseKeys,
  keyIdOf,
  readSigningKey,
  readTrustedKeys,
  type SigningKey,
  type TrustedKey,
} from './release-keys.js';
export { MAX_ENVELOPE_BYTES, pae, parseEnvelope, signEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
export {
  STATEMENT_TYPE,
  parseStatement,
  signRelease,
  verifyRelease,
  type ReleaseFacts,
  type ReleaseStatement,
} from './release-statement.js';
