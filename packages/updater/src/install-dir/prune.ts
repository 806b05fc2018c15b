import type { LifecycleContext } from '../operations/lifecycle-context.js';
import { releaseExists, removeRelease, removeTrash } from '@swarm/release-dir';
import { releasesToPrune } from './release-store.js';

/**
 * Delete committed releases beyond the retention count — after the commit, never before an
 * extraction (on a journal-less ext4, mass deletion slows the file creation that follows;
 * wiki/reference/platform-facts.md). Each directory goes first, then its journal record: a crash in between leaves a
 * record without a directory, which recovery forgets, never a directory the journal hides.
 * A deletion that fails (an I/O error) still records the releases already gone, so the
 * journal does not list a directory that no longer exists; what an earlier failure left —
 * trash, or records of deleted directories when the journal write failed — is reconciled first.
 */
export async function pruneReleases(ctx: LifecycleContext): Promise<string[]> {
  const { active, prev, staged, releases } = ctx.journal.current;
  const gone: string[] = [];
  try {
    await removeTrash(ctx.layout);
    // Records whose directory an earlier prune deleted without managing to journal it.
    for (const r of releases) {
      const pinned = r.id === active?.id || r.id === prev?.id || r.id === staged?.id;
      if (!pinned && !(await releaseExists(ctx.layout, r.id))) gone.push(r.id);
    }
    const present = releases.filter((r) => !gone.includes(r.id));
    const drop = releasesToPrune({ ...ctx.journal.current, releases: present }, ctx.config.keep);
    for (const release of drop) {
      try {
        await removeRelease(ctx.layout, release.id);
      } finally {
        // Renamed to the trash before its deletion failed counts as gone.
        if (!(await releaseExists(ctx.layout, release.id))) gone.push(release.id);
      }
    }
  } finally {
    if (gone.length > 0) {
      const ids = new Set(gone);
      await ctx.journal.update((s) => ({ ...s, releases: s.releases.filter((r) => !ids.has(r.id)) }));
      ctx.logger.info({ pruned: gone }, 'old releases pruned');
    }
  }
  return gone;
}
