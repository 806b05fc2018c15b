import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Mode of private key files. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of directories that hold private keys. */
export const PRIVATE_DIR_MODE = 0o700;

/** Create `dir` (and parents) and make it 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Write a file atomically (temp file, fsync, rename) with `mode`; a private key is created
 * 0600 from its first byte, never widened and narrowed later.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = PRIVATE_FILE_MODE): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
