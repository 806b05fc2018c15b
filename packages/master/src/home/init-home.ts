import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isSwarmError, swarmError } from '@swarm/errors';
import {
  DEFAULT_TRUST_DOMAIN,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  assertTrustDomain,
  createCa,
  ensurePrivateDir,
  fingerprint,
  issueCertificate,
  writeFileAtomic,
} from '@swarm/pki';
import { openRegistry } from '@swarm/inventory';
import { manifestText } from './home-manifest.js';
import { homePaths, type HomePaths } from './home-paths.js';

/** Options of {@link initHome}. */
export interface InitHomeOptions {
  /** The master home directory to create (see `resolveHome`). */
  readonly home: string;
  /** SPIFFE trust domain of the new CA (default `swarm.local`). */
  readonly trustDomain?: string;
  /**
   * Replace an existing master home. This discards its CA, so every enrolled host must be
   * enrolled again. A directory that is not a master home is never replaced.
   */
  readonly force?: boolean;
}

/** What {@link initHome} created. */
export interface InitHomeResult {
  readonly paths: HomePaths;
  readonly trustDomain: string;
  readonly createdAt: string;
  /** Pin of the new CA certificate. */
  readonly caFingerprint: string;
  /** Pin of the new master certificate. */
  readonly masterFingerprint: string;
  /** True when an existing home was replaced (`force`). */
  readonly replaced: boolean;
}

/** Entries whose presence makes a directory a (possibly damaged) master home. */
const HOME_MARKERS = ['home.json', 'ca', 'master', 'registry.db'];

type TargetState = 'absent' | 'empty' | 'home' | 'foreign';

/**
 * Create a master home: CA, master identity, empty registry and `home.json` (wiki/reference/layouts.md).
 *
 * The home is built in a fresh sibling directory and renamed into place, so a failure at
 * any step leaves either no home or the previous one, never half of one; two concurrent
 * inits cannot both win (the second rename finds a non-empty directory).
 */
export async function initHome(options: InitHomeOptions): Promise<InitHomeResult> {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  assertTrustDomain(trustDomain);
  const paths = homePaths(options.home);
  const state = await targetState(paths.home);
  if (state === 'foreign') {
    throw swarmError(
      'SWARM_ERR_HOME_EXISTS',
      `${paths.home} exists and is not a swarm master home; refusing to touch it${options.force ? ', even with --force' : ''}`,
      { home: paths.home },
    );
  }
  if (state === 'home' && !options.force) {
    throw swarmError('SWARM_ERR_HOME_EXISTS', `a master home already exists at ${paths.home}`, { home: paths.home });
  }

  const parent = dirname(paths.home);
  let staging: string | undefined;
  try {
    await mkdir(parent, { recursive: true });
    staging = await mkdtemp(join(parent, `.${basename(paths.home)}.init-`));
    const built = await build(homePaths(staging), trustDomain);
    await install(staging, paths.home, state === 'home');
    staging = undefined;
    await syncDir(parent);
    return { ...built, paths, replaced: state === 'home' };
  } catch (err) {
    if (isSwarmError(err)) throw err;
    throw swarmError(
      'SWARM_ERR_HOME_UNWRITABLE',
      `cannot create the master home ${paths.home}: ${(err as Error).message}`,
      { home: paths.home },
      { cause: err },
    );
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

async function targetState(home: string): Promise<TargetState> {
  let entries: string[];
  try {
    if (!(await stat(home)).isDirectory()) return 'foreign';
    entries = await readdir(home);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw swarmError(
      'SWARM_ERR_HOME_UNWRITABLE',
      `cannot inspect ${home}: ${(err as Error).message}`,
      { home },
      { cause: err },
    );
  }
  if (entries.length === 0) return 'empty';
  return entries.some((e) => HOME_MARKERS.includes(e)) ? 'home' : 'foreign';
}

/** Write a complete home into `paths.home` (the staging directory). */
async function build(paths: HomePaths, trustDomain: string): Promise<Omit<InitHomeResult, 'paths' | 'replaced'>> {
  await chmod(paths.home, PRIVATE_DIR_MODE);
  for (const dir of [paths.caDir, paths.masterDir, paths.bundles]) await ensurePrivateDir(dir);

  const ca = await createCa({ trustDomain });
  const master = await issueCertificate({ ca, trustDomain, role: 'master' });
  await writeFileAtomic(paths.caCert, ca.certPem, 0o644);
  await writeFileAtomic(paths.caKey, ca.keyPem, PRIVATE_FILE_MODE);
  await writeFileAtomic(paths.masterCert, master.certPem, 0o644);
  await writeFileAtomic(paths.masterKey, master.keyPem, PRIVATE_FILE_MODE);
  openRegistry(paths.registry).close();
  const createdAt = new Date().toISOString();
  // Written last: a home.json means everything else is there.
  await writeFileAtomic(paths.manifest, manifestText({ format: 1, trustDomain, createdAt }), 0o644);
  await syncDir(paths.home);
  return {
    trustDomain,
    createdAt,
    caFingerprint: fingerprint(ca.certPem),
    masterFingerprint: fingerprint(master.certPem),
  };
}

/**
 * Move the staged home into place. rename(2) replaces an empty directory and fails on a
 * non-empty one (someone else's init won the race). With `replace`, the old home is moved
 * aside first and put back if the new one cannot take its place.
 */
async function install(staging: string, home: string, replace: boolean): Promise<void> {
  if (!replace) {
    try {
      await rename(staging, home);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
        throw swarmError(
          'SWARM_ERR_HOME_EXISTS',
          `a master home was created at ${home} while this one was being built`,
          { home },
        );
      }
      throw err;
    }
    return;
  }
  const aside = join(dirname(home), `.${basename(home)}.replaced-${randomBytes(6).toString('hex')}`);
  await rename(home, aside);
  try {
    await rename(staging, home);
  } catch (err) {
    await rename(aside, home);
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

/** fsync a directory so the renames and creations in it survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
