import { randomBytes } from 'node:crypto';
import { readlink, realpath, rename, symlink, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { swarmError } from '@swarm/errors';
import { fsyncDir } from './durable-write.js';
import { CURRENT_TMP_PREFIX, releaseDir, type ReleaseDirPaths } from './paths.js';

/**
 * Point `current` at `releases/<id>` atomically (wiki/reference/guarantees.md#atomic-activation):
 * a new symlink is created under a temporary name and renamed over `current` — rename(2)
 * replaces the name in one step, so every reader sees either the old target or the new one,
 * never no `current` or a half-made link — then the directory is fsynced so the flip survives
 * a power cut. The link is relative, so a release directory can be moved as a whole.
 */
export async function pointCurrentAt(paths: ReleaseDirPaths, id: string): Promise<void> {
  const tmp = join(paths.root, `${CURRENT_TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  await symlink(join('releases', id), tmp);
  try {
    await rename(tmp, paths.current);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(paths.root);
}

/** Remove `current` (a first release failed: nothing may point at it). */
export async function removeCurrent(paths: ReleaseDirPaths): Promise<void> {
  try {
    await unlink(paths.current);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fsyncDir(paths.root);
}

/** The release id `current` points to, or null when there is no `current`. */
export async function readCurrent(paths: ReleaseDirPaths): Promise<string | null> {
  try {
    return basename(await readlink(paths.current));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EINVAL') {
      throw swarmError('SWARM_ERR_UPDATER_INTERNAL', `${paths.current} is not a symlink; move it away`);
    }
    throw err;
  }
}

/**
 * The real directory `current` resolves to, checked to be `releases/<expectedId>`. A process
 * is started from this path, never from `current/…`: after the next flip its cwd must still
 * be the code it was started from.
 */
export async function resolveCurrent(paths: ReleaseDirPaths, expectedId: string): Promise<string> {
  const real = await realpath(paths.current);
  const expected = await realpath(releaseDir(paths, expectedId));
  if (real !== expected) {
    throw swarmError('SWARM_ERR_UPDATER_INTERNAL', `current resolves to ${real}, expected ${expected}`);
  }
  return real;
}
