import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './durable-write.js';
import { STAGING_PREFIX, TRASH_PREFIX, releaseDir, type ReleaseDirPaths } from './paths.js';

/** True when `releases/<id>` exists as a directory. */
export async function releaseExists(paths: ReleaseDirPaths, id: string): Promise<boolean> {
  try {
    return (await stat(releaseDir(paths, id))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Delete a release directory without ever leaving a half-deleted `releases/<id>`: it is first
 * renamed to a trash name (atomic), the rename made durable, then removed. A crash leaves
 * trash, which {@link removeTrash} or {@link removeStaging} deletes.
 */
export async function removeRelease(paths: ReleaseDirPaths, id: string): Promise<void> {
  const trash = join(paths.releases, `${TRASH_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    await rename(releaseDir(paths, id), trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await fsyncDir(paths.releases);
  await rm(trash, { recursive: true, force: true });
}

/**
 * Delete the trash left by a deletion that failed half-way (its `rm` hit an I/O error): the
 * release was already gone from its name, only the disk space is left to reclaim. Only the
 * operation in flight deletes releases, so no trash can be in use when it runs this.
 */
export async function removeTrash(paths: ReleaseDirPaths): Promise<void> {
  for (const name of await readdir(paths.releases)) {
    if (name.startsWith(TRASH_PREFIX)) await rm(join(paths.releases, name), { recursive: true, force: true });
  }
}

/**
 * Delete what a process killed while staging or deleting a release left in `releases/` (its
 * staging and trash directories), and return their names. Only call it while nothing stages:
 * at the start, before any operation runs. A missing `releases/` has nothing to remove.
 */
export async function removeStaging(paths: ReleaseDirPaths): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(paths.releases);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const leftovers = names.filter((n) => n.startsWith(STAGING_PREFIX) || n.startsWith(TRASH_PREFIX));
  for (const name of leftovers) await rm(join(paths.releases, name), { recursive: true, force: true });
  if (leftovers.length > 0) await fsyncDir(paths.releases);
  return leftovers;
}
