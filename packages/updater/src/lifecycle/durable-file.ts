import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
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
 * directory. After it resolves, a crash shows either the old or the new content, never a mix.
 */
export async function writeFileDurable(path: string, data: string, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, data, mode);
  await fsyncDir(dirname(path));
}
