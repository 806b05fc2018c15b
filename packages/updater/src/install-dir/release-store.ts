import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CURRENT_TMP_PREFIX, fsyncDir, isAtomicWriteTemp, removeStaging } from '@swarm/release-dir';
import type { InstallLayout } from './install-layout.js';
import type { JournalState, ReleaseRecord } from '../journal/journal.js';

/** Create the install directory's skeleton. */
export async function ensureLayout(layout: InstallLayout): Promise<void> {
  await mkdir(layout.releases, { recursive: true });
  await mkdir(layout.logs, { recursive: true });
}

/** The files of the install directory that are replaced by atomic writes (temp file + rename). */
const ATOMIC_FILES = ['state.json', 'agent.pid', 'agent.json'];

/** Delete staging and trash directories and stray temporary files and links (recovery). */
export async function removeLeftovers(layout: InstallLayout): Promise<string[]> {
  const removed = (await removeStaging(layout)).map((name) => `releases/${name}`);
  let strays = 0;
  for (const name of await readdir(layout.root)) {
    // Temporary links of a flip, and temp files of an atomic write of state.json, agent.pid or
    // agent.json (written only by the lock holder, so none of them can belong to a live process now).
    if (name.startsWith(CURRENT_TMP_PREFIX) || ATOMIC_FILES.some((file) => isAtomicWriteTemp(file, name))) {
      await rm(join(layout.root, name), { force: true });
      removed.push(name);
      strays += 1;
    }
  }
  if (strays > 0) await fsyncDir(layout.root);
  return removed;
}

/**
 * The committed releases to delete so that at most `keep` remain besides the staged one:
 * never active, prev or staged, and otherwise the most recently installed are kept.
 */
export function releasesToPrune(state: JournalState, keep: number): ReleaseRecord[] {
  const staged = state.staged?.id;
  const pinned = new Set([state.active?.id, state.prev?.id].filter((id): id is string => id !== undefined));
  const others = state.releases
    .filter((r) => !pinned.has(r.id) && r.id !== staged)
    .sort((a, b) => b.installedAt.localeCompare(a.installedAt));
  const room = Math.max(0, keep - pinned.size);
  return others.slice(room);
}
