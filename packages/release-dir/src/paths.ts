import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';

/**
 * The part every release directory shares (wiki/reference/layouts.md): the install directory
 * of the agent and the self directory of the updater alike are `current -> releases/<id>`
 * with one directory per release. Staging, trash and temporary names are dot-prefixed (or
 * `current.tmp-`), so that none can ever be mistaken for a release or for `current`.
 */
export interface ReleaseDirPaths {
  readonly root: string;
  /** The atomic pointer: a relative symlink to `releases/<id>`. */
  readonly current: string;
  readonly releases: string;
}

/** Prefix of a directory that receives a release before it is complete (deleted at every start). */
export const STAGING_PREFIX = '.staging-';
/** Prefix of a release directory on its way out (renamed first, then deleted). */
export const TRASH_PREFIX = '.trash-';
/** Prefix of the temporary symlink renamed over `current`. */
export const CURRENT_TMP_PREFIX = 'current.tmp-';

export function releaseDirPaths(root: string): ReleaseDirPaths {
  const dir = resolve(root);
  return { root: dir, current: join(dir, 'current'), releases: join(dir, 'releases') };
}

/** Absolute directory of release `id`. */
export function releaseDir(paths: ReleaseDirPaths, id: string): string {
  return join(paths.releases, id);
}

/** A staging directory under `releases/`, named after `tag` (an operation id) or at random. */
export function stagingDir(paths: ReleaseDirPaths, tag: string = randomUUID()): string {
  return join(paths.releases, `${STAGING_PREFIX}${tag}`);
}
