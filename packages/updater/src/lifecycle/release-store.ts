import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './durable-file.js';
import { CURRENT_TMP_PREFIX, STAGING_PREFIX, TRASH_PREFIX, releaseDir, type InstallLayout } from './install-layout.js';
import type { JournalState, ReleaseRecord } from './journal.js';

/** Create the install directory's skeleton. */
export async function ensureLayout(layout: InstallLayout): Promise<void> {
  await mkdir(layout.releases, { recursive: true });
  await mkdir(layout.logs, { recursive: true });
}

/** True when `releases/<id>` exists as a directory. */
export async function releaseExists(layout: InstallLayout, id: string): Promise<boolean> {
  try {
    return (await stat(releaseDir(layout, id))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Delete a release directory without ever leaving a half-deleted `releases/<id>`: it is first
 * renamed to a trash name (atomic), the rename made durable, then removed. Recovery deletes
 * any trash left by a crash.
 */
export async function removeRelease(layout: InstallLayout, id: string): Promise<void> {
  const trash = join(layout.releases, `${TRASH_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    await rename(releaseDir(layout, id), trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await fsyncDir(layout.releases);
  await rm(trash, { recursive: true, force: true });
}

/**
 * Delete the trash left by a deletion that failed half-way (its `rm` hit an I/O error): the
 * release was already gone from its name, only the disk space is left to reclaim. Only the
 * operation in flight deletes releases, so no trash can be in use when it runs this.
 */
export async function removeTrash(layout: InstallLayout): Promise<void> {
  for (const name of await readdir(layout.releases)) {
    if (name.startsWith(TRASH_PREFIX)) await rm(join(layout.releases, name), { recursive: true, force: true });
  }
}

/** Delete staging and trash directories and stray temporary files and links (recovery). */
export async function removeLeftovers(layout: InstallLayout): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(layout.releases)) {
    if (name.startsWith(STAGING_PREFIX) || name.startsWith(TRASH_PREFIX)) {
      await rm(join(layout.releases, name), { recursive: true, force: true });
      removed.push(`releases/${name}`);
    }
  }
  for (const name of await readdir(layout.root)) {
    // Temporary links of a flip, and temp files of an atomic write of state.json, agent.pid or
    // agent.json    // (written only by the lock holder, so none of them can belong to a live process now).
    if (name.startsWith(CURRENT_TMP_PREFIX) || /^\.(state\.json|agent\.pid|agent\.json)\.[0-9a-f]+\.tmp$/.test(name)) {
      await rm(join(layout.root, name), { force: true });
      removed.push(name);
    }
  }
  if (removed.length > 0) await fsyncDir(layout.releases);
  return removed;
}

/**
 * The committed releases to delete so that at most `keep` remain: never active or prev, and
 * otherwise the most recently installed are kept.
 */
export function releasesToPrune(state: JournalState, keep: number): ReleaseRecord[] {
  const pinned = new Set([state.active?.id, state.prev?.id].filter((id): id is string => id !== undefined));
  const others = state.releases
    .filter((r) => !pinned.has(r.id))
    .sort((a, b) => b.installedAt.localeCompare(a.installedAt));
  const room = Math.max(0, keep - pinned.size);
  return others.slice(room);
}
