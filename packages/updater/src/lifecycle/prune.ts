import type { LifecycleContext } from './lifecycle-context.js';
import { releasesToPrune, removeRelease } from './release-store.js';

/**
 * Delete committed releases beyond the retention count — after the commit, never before an
 * extraction (on a journal-less ext4, mass deletion slows the file creation that follows;
 * NOTES.md). Each directory goes first, then its journal record: a crash in between leaves a
 * record without a directory, which recovery forgets, never a directory the journal hides.
 */
export async function pruneReleases(ctx: LifecycleContext): Promise<string[]> {
  const drop = releasesToPrune(ctx.journal.current, ctx.config.keep);
  for (const release of drop) await removeRelease(ctx.layout, release.id);
  if (drop.length > 0) {
    const ids = new Set(drop.map((r) => r.id));
    await ctx.journal.update((s) => ({ ...s, releases: s.releases.filter((r) => !ids.has(r.id)) }));
    ctx.logger.info({ pruned: [...ids] }, 'old releases pruned');
  }
  return drop.map((r) => r.id);
}
