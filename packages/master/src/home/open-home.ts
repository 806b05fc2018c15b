import { createPrivateKey, type X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import { identityOf, parseCertificate, type CertifiedKey } from '@swarm/pki';
import { openRegistry, type Registry } from '@swarm/inventory';
import { readManifest } from './home-manifest.js';
import { homePaths, type HomePaths } from './home-paths.js';

/** The master's TLS client identity: what every connection to an updater presents. */
export interface MasterIdentity {
  readonly certPem: string;
  readonly keyPem: string;
  /** The CA that issued it — and every worker certificate this master trusts. */
  readonly caPem: string;
}

/** An opened master home. Call `close()` when done (it closes the registry). */
export interface MasterHome {
  readonly paths: HomePaths;
  readonly trustDomain: string;
  readonly createdAt: string;
  /** The CA, with its key: only enrollment needs it. */
  readonly ca: CertifiedKey;
  readonly master: MasterIdentity;
  readonly registry: Registry;
  close(): void;
}

/** Options of {@link openHome}. */
export interface OpenHomeOptions {
  /** Passed to the registry: how long to wait for another command's lock. */
  readonly busyTimeoutMs?: number;
}

/**
 * Open the master home at `home` (see `resolveHome`). Refuses, with the file at fault:
 * no home there (SWARM_ERR_HOME_MISSING); a missing or unreadable file, a private key that
 * others can read, a certificate that does not match its key, or a master certificate not
 * issued by the home's CA (SWARM_ERR_HOME_INVALID).
 */
export async function openHome(home: string, options: OpenHomeOptions = {}): Promise<MasterHome> {
  const paths = homePaths(home);
  await checkPresent(paths);
  const manifest = await readManifest(paths.manifest);
  const ca = { certPem: await readHomeFile(paths.caCert), keyPem: await readPrivateKey(paths.caKey) };
  const master = { certPem: await readHomeFile(paths.masterCert), keyPem: await readPrivateKey(paths.masterKey) };
  checkIdentities(paths, manifest.trustDomain, ca, master);
  const registry = openRegistry(paths.registry, { create: false, ...options });
  return {
    paths,
    trustDomain: manifest.trustDomain,
    createdAt: manifest.createdAt,
    ca,
    master: { ...master, caPem: ca.certPem },
    registry,
    close: () => registry.close(),
  };
}

async function checkPresent(paths: HomePaths): Promise<void> {
  const required = [paths.manifest, paths.caCert, paths.caKey, paths.masterCert, paths.masterKey, paths.registry];
  const missing: string[] = [];
  try {
    if (!(await stat(paths.home)).isDirectory()) {
      throw swarmError('SWARM_ERR_HOME_INVALID', `${paths.home} is not a directory`, { home: paths.home });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw swarmError('SWARM_ERR_HOME_MISSING', `no master home at ${paths.home}`, { home: paths.home });
    }
    throw err;
  }
  for (const file of required) {
    try {
      await stat(file);
    } catch {
      missing.push(file);
    }
  }
  if (missing.length === required.length) {
    throw swarmError('SWARM_ERR_HOME_MISSING', `no master home at ${paths.home}`, { home: paths.home });
  }
  if (missing.length > 0) {
    throw swarmError('SWARM_ERR_HOME_INVALID', `the master home ${paths.home} is missing ${missing.join(', ')}`, {
      home: paths.home,
      missing,
    });
  }
}

async function readHomeFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_HOME_INVALID',
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

/** Like ssh with its identity files: refuse a private key that others can read. */
async function readPrivateKey(path: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_HOME_INVALID',
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw swarmError(
      'SWARM_ERR_HOME_INVALID',
      `${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); run \`chmod 600 ${path}\` and check who copied it`,
      { path, mode },
    );
  }
  return readHomeFile(path);
}

function checkIdentities(paths: HomePaths, trustDomain: string, ca: CertifiedKey, master: CertifiedKey): void {
  const invalid = (message: string, cause?: unknown) =>
    swarmError('SWARM_ERR_HOME_INVALID', message, { home: paths.home }, cause === undefined ? {} : { cause });
  let caCert: X509Certificate;
  let masterCert: X509Certificate;
  try {
    caCert = parseCertificate(ca.certPem);
    masterCert = parseCertificate(master.certPem);
  } catch (err) {
    throw invalid(`a certificate of ${paths.home} is unreadable: ${(err as Error).message}`, err);
  }
  if (!caCert.ca) throw invalid(`${paths.caCert} is not a CA certificate`);
  if (!matchesKey(caCert, ca.keyPem)) throw invalid(`${paths.caKey} is not the key of ${paths.caCert}`);
  if (!matchesKey(masterCert, master.keyPem)) throw invalid(`${paths.masterKey} is not the key of ${paths.masterCert}`);
  if (!masterCert.checkIssued(caCert) || !masterCert.verify(caCert.publicKey)) {
    throw invalid(`${paths.masterCert} was not issued by ${paths.caCert}`);
  }
  let role: string;
  try {
    role = identityOf(masterCert, trustDomain).role;
  } catch (err) {
    throw invalid(`${paths.masterCert}: ${(err as Error).message}`, err);
  }
  if (role !== 'master') throw invalid(`${paths.masterCert} is a ${role} certificate, not the master's`);
}

function matchesKey(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
