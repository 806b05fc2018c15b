import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { swarmError } from '@swarm/errors';
import { PRIVATE_FILE_MODE, ensurePrivateDir, writeFileAtomic } from '@swarm/pki';

/** The file names `swarm keygen` writes. */
export const RELEASE_KEY_FILE = 'release.key';
export const RELEASE_PUB_FILE = 'release.pub';

/** A public key trusted to sign releases, with its id. */
export interface TrustedKey {
  /** Lowercase hex SHA-256 of the SPKI DER, first 16 characters (SPEC §12). */
  readonly keyid: string;
  readonly key: KeyObject;
  /** Where it was read from, for messages. */
  readonly source: string;
}

/** A release signing key: the private key and the id of its public half. */
export interface SigningKey {
  readonly keyid: string;
  readonly key: KeyObject;
}

/** The key id of a public (or private) Ed25519 key. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/**
 * `swarm keygen`: an Ed25519 key pair in `dir` — `release.key` (PKCS#8 PEM, 0600, in a 0700
 * directory) and `release.pub` (SPKI PEM). An existing key is never overwritten: losing a
 * release key is losing the ability to sign for every host that trusts it.
 */
export async function generateReleaseKeys(dir: string): Promise<{ keyid: string; keyFile: string; pubFile: string }> {
  const keyFile = join(dir, RELEASE_KEY_FILE);
  const pubFile = join(dir, RELEASE_PUB_FILE);
  for (const file of [keyFile, pubFile]) {
    if (await exists(file)) {
      throw swarmError('SWARM_ERR_USAGE_INVALID', `${file} exists: swarm keygen never overwrites a key (choose another --out)`);
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await ensurePrivateDir(dir);
  await writeFileAtomic(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, PRIVATE_FILE_MODE);
  await writeFileAtomic(pubFile, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);
  return { keyid: keyIdOf(publicKey), keyFile, pubFile };
}

/** Read a private release key (`--key`): an Ed25519 PKCS#8 PEM. */
export async function readSigningKey(file: string): Promise<SigningKey> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw swarmError('SWARM_ERR_USAGE_INVALID', `the signing key ${file} cannot be read (${codeOf(err)})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw swarmError('SWARM_ERR_USAGE_INVALID', `${file} is not a PEM private key (swarm keygen writes release.key)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw swarmError('SWARM_ERR_USAGE_INVALID', `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; release keys are Ed25519 (swarm keygen)`);
  }
  return { keyid: keyIdOf(key), key };
}

/**
 * Read `--trusted-keys`: one `.pub` file, or every `*.pub` of a directory. Each must be an
 * Ed25519 SPKI PEM; a file that is not, or a directory without one, is
 * SWARM_ERR_CONFIG_INVALID naming it (an updater told to require signatures must not start
 * believing it trusts nothing, nor trust a key it could not read).
 */
export async function readTrustedKeys(path: string): Promise<TrustedKey[]> {
  let files: string[];
  try {
    files = (await stat(path)).isDirectory()
      ? (await readdir(path)).filter((f) => f.endsWith('.pub')).sort().map((f) => join(path, f))
      : [path];
  } catch (err) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `--trusted-keys ${path} cannot be read (${codeOf(err)})`, { file: path });
  }
  if (files.length === 0) throw swarmError('SWARM_ERR_CONFIG_INVALID', `--trusted-keys ${path} holds no .pub file`, { file: path });
  const keys: TrustedKey[] = [];
  for (const file of files) {
    let key: KeyObject;
    try {
      key = createPublicKey(await readFile(file, 'utf8'));
    } catch {
      throw swarmError('SWARM_ERR_CONFIG_INVALID', `--trusted-keys: ${file} is not a PEM public key`, { file });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw swarmError('SWARM_ERR_CONFIG_INVALID', `--trusted-keys: ${file} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, { file });
    }
    keys.push({ keyid: keyIdOf(key), key, source: file });
  }
  return keys;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
