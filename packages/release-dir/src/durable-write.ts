import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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

/** The temporary name {@link writeFileAtomic} writes `path`'s new content under. */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** True for a temporary file {@link writeFileAtomic} may have left for a file named `name`. */
export function isAtomicWriteTemp(fileName: string, name: string): boolean {
  const prefix = `.${fileName}.`;
  return name.startsWith(prefix) && /^[0-9a-f]+\.tmp$/.test(name.slice(prefix.length));
}

/**
 * Write a file atomically (temp file, fsync, rename) with `mode`: readers see the old or the
 * new content, never a mix, and a private key is created with its mode from its first byte,
 * never widened and narrowed later. The rename is not yet durable: see {@link writeFileDurable}.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = tempName(path);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
}

/**
 * Replace a file durably: {@link writeFileAtomic}, then fsync of the directory. After it
 * resolves, a crash shows either the old or the new content, never a mix; when it rejects,
 * the file still holds the old content.
 */
export async function writeFileDurable(path: string, data: string, mode = 0o644): Promise<void> {
  try {
    await writeFileAtomic(path, data, mode);
  } catch (err) {
    // The temp file is left behind when the rename fails (a full or failing disk). Each file
    // has one writer at a time (the journal's queue, the supervisor's lock), so any temp file
    // of this name is that write's: remove it rather than wait for a restart.
    for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
      if (isAtomicWriteTemp(basename(path), name)) {
        await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
      }
    }
    throw err;
  }
  // From here the new content is what every reader sees: failing now would leave callers
  // (the journal) believing the old state while the file says the new one. A failed fsync
  // only means the rename might not survive a power cut — the window every rename has until
  // its fsync, which recovery is built for — so it is reported, not thrown.
  await fsyncDir(dirname(path)).catch((err: Error) =>
    process.emitWarning(`${path} was replaced but its directory could not be synced: ${err.message}`, {
      code: 'SWARM_WARN_FSYNC_FAILED',
    }),
  );
}
