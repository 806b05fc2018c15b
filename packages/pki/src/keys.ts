import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA modulus size for every key swarm makes: at least 3072 bits (wiki/reference/updater-api.md#transport-and-identity). */
export const RSA_BITS = 3072;

/** A PEM key pair: PKCS#8 private key, SPKI public key. */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * Generate an RSA key pair with Node's native crypto, off the main thread. node-forge's
 * pure-JS keygen takes seconds and blocks the event loop (wiki/reference/platform-facts.md); forge only signs.
 */
export async function generateRsaKeyPair(bits: number = RSA_BITS): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
