import { chmod, mkdir } from 'node:fs/promises';
import { writeFileAtomic as writeAtomic } from '@swarm/release-dir';

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
 * Write a file atomically with `mode`, private (0600) unless told otherwise: a key is created
 * with its mode from its first byte, never widened and narrowed later.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = PRIVATE_FILE_MODE): Promise<void> {
  await writeAtomic(path, data, mode);
}
