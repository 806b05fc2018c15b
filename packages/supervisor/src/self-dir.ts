import { mkdir, open, readFile, readlink, rename, rm, symlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '@swarm/pki';

/**
 * The self directory: the updater's own code, in the same shape as an install directory
 * (wiki/reference/layouts.md): `current -> releases/<id>`, one directory per release, and `state.json`,
 * the supervisor's journal.
 */
export interface SelfDirPaths {
  readonly root: string;
  readonly current: string;
  readonly releases: string;
  readonly state: string;
  readonly lock: string;
}

export function selfDirPaths(root: string): SelfDirPaths {
  return {
    root,
    current: join(root, 'current'),
    releases: join(root, 'releases'),
    state: join(root, 'state.json'),
    lock: join(root, 'supervisor.lock'),
  };
}

/** The outcome of the last self-update, as `GET /health` reports it in `lastSelfUpdate`. */
export interface SelfUpdateRecord {
  readonly outcome: 'succeeded' | 'failed';
  /** The attempt id the updater gave in its 202 (the master waits for this record). */
  readonly attempt?: string;
  /** Release id switched from and to. */
  readonly from: string | null;
  readonly to: string;
  readonly version: string;
  /** Why it failed (absent on success). */
  readonly reason?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** The supervisor's journal (`<self-dir>/state.json`). */
export interface SelfState {
  readonly active: string | null;
  readonly prev: string | null;
  /** A switch in flight: present from the flip until the new updater is proven or undone. */
  readonly switching: {
    readonly from: string | null;
    readonly to: string;
    readonly version: string;
    readonly attempt?: string;
    readonly startedAt: string;
  } | null;
  readonly lastSelfUpdate: SelfUpdateRecord | null;
}

const EMPTY_STATE: SelfState = { active: null, prev: null, switching: null, lastSelfUpdate: null };

/** Read the journal; a missing file is the empty state. */
export async function readSelfState(paths: SelfDirPaths): Promise<SelfState> {
  try {
    return { ...EMPTY_STATE, ...(JSON.parse(await readFile(paths.state, 'utf8')) as Partial<SelfState>) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    throw err;
  }
}

/** Write the journal atomically (temp file, fsync, rename). */
export async function writeSelfState(paths: SelfDirPaths, state: SelfState): Promise<void> {
  await writeFileAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`, 0o644);
  await fsyncDir(paths.root);
}

/** The release id `current` points at, or null when there is none. */
export async function currentReleaseId(paths: SelfDirPaths): Promise<string | null> {
  try {
    const target = await readlink(paths.current);
    return target.split('/').pop() ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Point `current` at `releases/<id>` with one rename(2) of a fresh symlink, then fsync the
 * directory: at every instant `current` is the old or the new target, never missing.
 */
export async function flipCurrent(paths: SelfDirPaths, id: string): Promise<void> {
  const tmp = join(paths.root, `.current.${randomBytes(6).toString('hex')}`);
  await symlink(join('releases', id), tmp);
  try {
    await rename(tmp, paths.current);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(paths.root);
}

/**
 * Remove releases beyond the newest `keep`, never `active` or `prev`. Staging directories
 * (dot-prefixed) are left alone: the running updater may be staging one right now (see
 * {@link removeStaging}).
 */
export async function pruneReleases(paths: SelfDirPaths, state: SelfState, keep: number): Promise<void> {
  await mkdir(paths.releases, { recursive: true });
  const names = await readdir(paths.releases);
  const protectedIds = new Set([state.active, state.prev].filter((x): x is string => x !== null));
  const candidates = names.filter((n) => !protectedIds.has(n) && !n.startsWith('.'));
  const excess = Math.max(0, names.filter((n) => !n.startsWith('.')).length - keep);
  for (const name of candidates.slice(0, excess))
    await rm(join(paths.releases, name), { recursive: true, force: true });
}

/**
 * Remove what an updater killed while staging a release left in `releases/` (its
 * `.staging-*` directory: the updater stages there, then renames the complete tree into
 * place). Only call it while no updater runs — nothing else would ever remove them.
 */
export async function removeStaging(paths: SelfDirPaths): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(paths.releases);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const staging = names.filter((n) => n.startsWith('.staging-'));
  for (const name of staging) await rm(join(paths.releases, name), { recursive: true, force: true });
  return staging;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
