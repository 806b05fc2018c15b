import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { swarmError } from '@swarm/errors';
import type { CertifiedKey } from './certificates.js';
import { identityOf } from './identity.js';
import { assertHostName } from './names.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, writeFileAtomic } from './secure-files.js';

/** `host.json` of a worker bundle: who this worker is and where it listens. */
export interface HostInfo {
  readonly name: string;
  readonly trustDomain: string;
  readonly address: string;
  readonly agentPort: number;
  readonly updaterPort: number;
}

/** A worker bundle: what `swarm enroll` hands to a worker (wiki/reference/layouts.md). */
export interface WorkerBundle {
  readonly host: HostInfo;
  readonly caPem: string;
  readonly agent: CertifiedKey;
  /** Present when enrolled with `--updater`. */
  readonly updater: CertifiedKey | null;
}

/** File names inside a bundle directory. */
export const BUNDLE_FILES = {
  ca: 'ca.crt',
  host: 'host.json',
  agentCert: 'agent.crt',
  agentKey: 'agent.key',
  updaterCert: 'updater.crt',
  updaterKey: 'updater.key',
} as const;

/**
 * Write a bundle to `dir` all at once: the files go to a fresh sibling directory that is
 * renamed into place, so a failure leaves no partial bundle. `dir` must not exist or be empty.
 * Keys are 0600, the directory 0700.
 */
export async function writeWorkerBundle(dir: string, bundle: WorkerBundle): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  let tmp: string | undefined;
  try {
    if (await isNonEmptyDir(target)) {
      throw swarmError('SWARM_ERR_ENROLL_OUT_UNWRITABLE', `${target} already exists and is not empty`);
    }
    // Create missing parents 0700, but never chmod one that exists: with `--out /tmp/web-1`
    // the parent is /tmp, and narrowing it to 0700 would break every other user of it.
    await mkdir(parent, { recursive: true, mode: PRIVATE_DIR_MODE });
    tmp = await mkdtemp(join(parent, `.${basename(target)}.partial-`));
    await chmod(tmp, PRIVATE_DIR_MODE);
    await writeFileAtomic(join(tmp, BUNDLE_FILES.ca), bundle.caPem, 0o644);
    await writeFileAtomic(join(tmp, BUNDLE_FILES.host), `${JSON.stringify(bundle.host, null, 2)}\n`, 0o644);
    await writeFileAtomic(join(tmp, BUNDLE_FILES.agentCert), bundle.agent.certPem, 0o644);
    await writeFileAtomic(join(tmp, BUNDLE_FILES.agentKey), bundle.agent.keyPem, PRIVATE_FILE_MODE);
    if (bundle.updater) {
      await writeFileAtomic(join(tmp, BUNDLE_FILES.updaterCert), bundle.updater.certPem, 0o644);
      await writeFileAtomic(join(tmp, BUNDLE_FILES.updaterKey), bundle.updater.keyPem, PRIVATE_FILE_MODE);
    }
    await rename(tmp, target);
    tmp = undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'SWARM_ERR_ENROLL_OUT_UNWRITABLE') throw err;
    throw swarmError(
      'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
      `cannot write the bundle to ${target}: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    if (!s.isDirectory()) return true;
    return (await readdir(path)).length > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Read and check a bundle: host.json is well formed, the certificates carry the identities
 * host.json names, and the updater pair is present when `requireUpdater` is set.
 */
export async function readWorkerBundle(dir: string, options: { requireUpdater?: boolean } = {}): Promise<WorkerBundle> {
  const file = (name: string) => join(dir, name);
  const read = async (name: string, optional = false): Promise<string | null> => {
    try {
      return await readFile(file(name), 'utf8');
    } catch (err) {
      if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw swarmError('SWARM_ERR_BUNDLE_INVALID', `cannot read ${file(name)}: ${(err as Error).message}`);
    }
  };
  const host = parseHostInfo((await read(BUNDLE_FILES.host))!, file(BUNDLE_FILES.host));
  const caPem = (await read(BUNDLE_FILES.ca))!;
  const agent = { certPem: (await read(BUNDLE_FILES.agentCert))!, keyPem: (await read(BUNDLE_FILES.agentKey))! };
  const updaterCert = await read(BUNDLE_FILES.updaterCert, true);
  const updaterKey = await read(BUNDLE_FILES.updaterKey, true);
  if ((updaterCert === null) !== (updaterKey === null)) {
    throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${dir} has only one of updater.crt and updater.key`);
  }
  if (options.requireUpdater && updaterCert === null) {
    throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${dir} has no updater certificate: enroll the host with --updater`);
  }
  const updater = updaterCert !== null ? { certPem: updaterCert, keyPem: updaterKey! } : null;
  checkIdentity(agent.certPem, host, 'agent', dir);
  checkKeyPair(agent, caPem, 'agent', dir);
  if (updater) {
    checkIdentity(updater.certPem, host, 'updater', dir);
    checkKeyPair(updater, caPem, 'updater', dir);
  }
  return { host, caPem, agent, updater };
}

/**
 * A certificate with someone else's key, or from another CA than ca.crt, would only fail at
 * the first handshake, far from the cause; fail here, naming the file.
 */
function checkKeyPair(pair: CertifiedKey, caPem: string, role: 'agent' | 'updater', dir: string): void {
  let matches: boolean;
  let issued: boolean;
  try {
    const cert = new X509Certificate(pair.certPem);
    const ca = new X509Certificate(caPem);
    issued = cert.checkIssued(ca) && cert.verify(ca.publicKey);
    matches = cert.checkPrivateKey(createPrivateKey(pair.keyPem));
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_BUNDLE_INVALID',
      `${dir}: cannot check ${role}.crt against ${role}.key and ca.crt: ${(err as Error).message}`,
    );
  }
  if (!issued) throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${dir}/${role}.crt was not issued by ${dir}/ca.crt`);
  if (!matches) throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${dir}/${role}.key is not the key of ${role}.crt`);
}

function checkIdentity(certPem: string, host: HostInfo, role: 'agent' | 'updater', dir: string): void {
  let identity;
  try {
    identity = identityOf(certPem, host.trustDomain);
  } catch (err) {
    throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${dir}/${role}.crt: ${(err as Error).message}`);
  }
  if (identity.role !== role || identity.host !== host.name) {
    throw swarmError(
      'SWARM_ERR_BUNDLE_INVALID',
      `${dir}/${role}.crt is ${identity.uri}, not the ${role} of ${host.name}`,
    );
  }
}

function parseHostInfo(text: string, path: string): HostInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${path} is not JSON: ${(err as Error).message}`);
  }
  const o = (raw ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['name', 'trustDomain', 'address'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') problems.push(`${key} must be a non-empty string`);
  }
  for (const key of ['agentPort', 'updaterPort'] as const) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
      problems.push(`${key} must be a port number`);
  }
  if (typeof o.name === 'string') {
    try {
      assertHostName(o.name);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0)
    throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${path}: ${problems.join('; ')}`, { problems });
  return {
    name: o.name as string,
    trustDomain: o.trustDomain as string,
    address: o.address as string,
    agentPort: o.agentPort as number,
    updaterPort: o.updaterPort as number,
  };
}
