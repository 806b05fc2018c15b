import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The outcome of the last self-update, as the supervisor journaled it in
 * `<self-dir>/state.json`. Read when the updater starts: every self-update attempt ends
 * with a fresh updater process (the new one, or the previous one started again).
 */
export async function readLastSelfUpdate(selfDir: string | null): Promise<unknown> {
  if (!selfDir) return null;
  try {
    const state = JSON.parse(await readFile(join(selfDir, 'state.json'), 'utf8')) as { lastSelfUpdate?: unknown };
    return state.lastSelfUpdate ?? null;
  } catch {
    return null;
  }
}
