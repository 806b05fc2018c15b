import { open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '@swarm/pki';

/**
 * fsync a directory, so that the renames, links and unlinks done in it survive a power cut.
 * rename(2) is atomic for running processes, but only durable once its directory is synced.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace a file durably: temp file, fsync, rename (pki's writeFileAtomic), then fsync of the
 * directory. After it resolves, a crash shows either the old or the new content, never a mix;
 * when it rejects, the file still holds the old content.
 */
export async function writeFileDurable(path: string, data: string, mode = 0o644): Promise<void> {
  try {
    await writeFileAtomic(path, data, mode);
  } catch (err) {
    // writeFileAtomic leaves its temp file behind when the rename fails (a full or failing
    // disk). Each file has one writer at a time (the journal's queue, the supervisor's lock),
    // so any temp file of this name is that write's: remove it rather than wait for a restart.
    const prefix = `.${basename(path)}.`;
    for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
      if (name.startsWith(prefix) && /^[0-9a-f]+\.tmp$/.test(name.slice(prefix.length))) {
        await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
      }
    }
    throw err;
  }
  // From here the new content is what every reader sees: failing now would leave callers
  // (the journal) believing the old state while state.json says the new one. A failed fsync
  // only means the rename might not survive a power cut — the window every rename has until
  // its fsync, which recovery is built for — so it is reported, not thrown.
  await fsyncDir(dirname(path)).catch((err: Error) =>
    process.emitWarning(`${path} was replaced but its directory could not be synced: ${err.message}`, {
      code: 'SWARM_WARN_FSYNC_FAILED',
    }),
  );
}
