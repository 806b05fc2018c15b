import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { swarmError } from '@swarm/errors';
import { fsyncDir, isAlive, processIdentity } from '@swarm/release-dir';

/** Who holds an install directory, as written in `updater.lock`. */
export interface LockOwner {
  readonly pid: number;
  /** Start time of `pid` (see ProcessIdentity): a recycled PID never looks like the owner. */
  readonly startTime: string;
  /** Why the lock is held, for the operator who finds it. */
  readonly reason: string;
  readonly acquiredAt: string;
}

/** A held lock on an install directory. */
export interface InstallLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Remove the lock file if it is still ours. */
  release(): Promise<void>;
}

/** Name of the lock file inside the install directory. */
export const LOCK_FILE = 'updater.lock';

const MAX_ATTEMPTS = 5;

/**
 * Take the exclusive lock of an install directory: one updater process per directory
 * (wiki/reference/guarantees.md#one-operation-at-a-time). The owner record is written to a temp file first and then hard-linked to
 * `updater.lock` — `link(2)` fails if the name exists, like O_EXCL, and the lock file is never
 * seen half-written. A lock whose owner PID is dead (or alive with another start time) is
 * stale and taken over; a live owner makes this throw SWARM_ERR_UPDATER_LOCKED naming it.
 */
export async function acquireInstallLock(installDir: string, reason: string): Promise<InstallLock> {
  await mkdir(installDir, { recursive: true });
  const path = join(installDir, LOCK_FILE);
  const me = await processIdentity(process.pid);
  if (!me) throw swarmError('SWARM_ERR_UPDATER_INTERNAL', 'cannot read this process in /proc');
  const owner: LockOwner = { pid: me.pid, startTime: me.startTime, reason, acquiredAt: new Date().toISOString() };

  const tmp = join(installDir, `.${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await link(tmp, path);
        await fsyncDir(installDir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= MAX_ATTEMPTS) throw err;
      }
      const holder = await readOwner(path);
      if (holder && (await isAlive(holder))) {
        throw swarmError(
          'SWARM_ERR_UPDATER_LOCKED',
          `another updater (PID ${holder.pid}, since ${holder.acquiredAt}: ${holder.reason}) owns ${installDir}`,
          { pid: holder.pid, reason: holder.reason, acquiredAt: holder.acquiredAt, lock: path },
        );
      }
      // Stale: its owner is gone. Two updaters racing for the same stale lock both unlink
      // it, but only one of them wins the link() that follows.
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return {
    path,
    owner,
    async release() {
      const holder = await readOwner(path);
      if (holder && holder.pid === owner.pid && holder.startTime === owner.startTime) {
        await unlink(path).catch(() => undefined);
      }
    },
  };
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof raw.pid !== 'number' || typeof raw.startTime !== 'string') return null;
    return {
      pid: raw.pid,
      startTime: raw.startTime,
      reason: typeof raw.reason === 'string' ? raw.reason : 'unknown',
      acquiredAt: typeof raw.acquiredAt === 'string' ? raw.acquiredAt : 'unknown',
    };
  } catch {
    return null;
  }
}
