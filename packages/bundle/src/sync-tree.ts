import { execFile } from 'node:child_process';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Files fsynced at once by the fallback walk. */
const FSYNC_CONCURRENCY = 16;

/**
 * Make everything under `dir` durable, once, before it is activated (wiki/reference/guarantees.md#atomic-activation:
 * `current` must always resolve to a complete release, even after a power cut).
 *
 * {@link extractRelease} does not fsync each file: 5 000 fsyncs take ~0.7 s on this
 * disk class, while one `syncfs(2)` of the file system holding `dir` (coreutils
 * `sync -f`) takes ~0.07 s. Where that is not available (not Linux, no `sync -f`), every
 * file and directory under `dir` is fsynced instead. The caller still fsyncs the parent
 * directory after renaming `dir` into place.
 */
export async function syncTree(dir: string): Promise<void> {
  if (process.platform === 'linux' && (await syncFileSystem(dir))) return;
  await fsyncWalk(dir);
}

/** What {@link startWriteBack} returns. */
export interface WriteBack {
  /**
   * Stop starting flushes. A flush in progress is left to finish on its own: a syncfs of a
   * busy file system can take seconds, and the caller (an extraction that just ended, maybe
   * failed) must not wait for a hint.
   */
  stop(): void;
}

/**
 * Flush the file system holding `dir` every `intervalMs` while a release is being written
 * there, so that the kernel writes it out while extraction is still busy with the CPU, and
 * the {@link syncTree} before activation finds little left to write (on this disk class a
 * 30 MB tree took ~130 ms to flush at the end, all of it on the update's critical path).
 * A hint only: its failures are ignored, and the durability guarantee is still
 * {@link syncTree}'s. Linux only (`sync -f`); elsewhere it does nothing.
 */
export function startWriteBack(dir: string, intervalMs = 250): WriteBack {
  if (process.platform !== 'linux') return { stop: () => undefined };
  let stopped = false;
  let wake: (() => void) | null = null;
  void (async () => {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      if (!stopped) await syncFileSystem(dir);
    }
  })();
  return {
    stop: () => {
      stopped = true;
      wake?.();
    },
  };
}

function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', dir], { timeout: 120_000 }, (err) => resolve(err === null));
  });
}

async function fsyncWalk(dir: string): Promise<void> {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
    }
    dirs.push(d);
  };
  await walk(dir);
  // Files first, then directories deepest first, so each directory is synced after its entries.
  for (const batch of [files, dirs]) {
    for (let i = 0; i < batch.length; i += FSYNC_CONCURRENCY) {
      await Promise.all(batch.slice(i, i + FSYNC_CONCURRENCY).map(fsyncPath));
    }
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
