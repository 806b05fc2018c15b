import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwitchRecord } from '@swarm/protocol';
import {
  fsyncDir,
  pointCurrentAt,
  readCurrent,
  releaseDirPaths,
  removeRelease,
  writeFileAtomic,
  type ReleaseDirPaths,
} from '@swarm/release-dir';

/**
 * The self directory: the updater's own code, a release directory like an install directory
 * (wiki/reference/layouts.md, @swarm/release-dir: `current -> releases/<id>`, one directory per
 * release), plus `state.json`, the supervisor's journal, and its lock. The supervisor is the
 * only writer of both; everyone else asks it (the updater gets `lastSelfUpdate` from it at
 * start, `swarm updater` seeds an empty self directory through {@link seedSelfRelease}).
 */
export interface SelfDirPaths extends ReleaseDirPaths {
  readonly state: string;
  readonly lock: string;
}

export function selfDirPaths(root: string): SelfDirPaths {
  const paths = releaseDirPaths(root);
  return { ...paths, state: join(paths.root, 'state.json'), lock: join(paths.root, 'supervisor.lock') };
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
  readonly lastSelfUpdate: SwitchRecord | null;
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

/** Write the journal atomically (temp file, fsync, rename) and durably (fsync of the directory). */
export async function writeSelfState(paths: SelfDirPaths, state: SelfState): Promise<void> {
  await writeFileAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`, 0o644);
  await fsyncDir(paths.root);
}

/** The release the self directory runs (`current`), or null when it was never seeded. */
export async function activeSelfRelease(selfDir: string): Promise<string | null> {
  return readCurrent(selfDirPaths(selfDir));
}

/**
 * Make `id`, already complete under `releases/`, the release of an empty self directory: point
 * `current` at it and journal it as active (nothing to fall back to yet).
 */
export async function seedSelfRelease(selfDir: string, id: string): Promise<void> {
  const paths = selfDirPaths(selfDir);
  await pointCurrentAt(paths, id);
  const state = await readSelfState(paths);
  await writeSelfState(paths, { ...state, active: id, switching: null });
}

/**
 * Remove releases beyond the newest `keep`, never `active` or `prev`. Staging directories
 * (dot-prefixed) are left alone: the running updater may be staging one right now (they are
 * removed before an updater starts).
 */
export async function pruneReleases(paths: SelfDirPaths, state: SelfState, keep: number): Promise<void> {
  await mkdir(paths.releases, { recursive: true });
  const names = await readdir(paths.releases);
  const protectedIds = new Set([state.active, state.prev].filter((x): x is string => x !== null));
  const candidates = names.filter((n) => !protectedIds.has(n) && !n.startsWith('.'));
  const excess = Math.max(0, names.filter((n) => !n.startsWith('.')).length - keep);
  for (const name of candidates.slice(0, excess)) await removeRelease(paths, name);
}
