import { open, readFile, rm } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';

/**
 * One supervisor per self directory: `supervisor.lock` holds the owner's PID, created with
 * O_EXCL. A lock whose owner is dead is stale and taken over.
 */
export async function acquireSelfLock(path: string): Promise<{ release(): Promise<void> }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(`${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`);
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await readOwner(path);
      if (owner !== null && owner !== process.pid && isAlive(owner)) {
        throw swarmError(
          'SWARM_ERR_UPDATER_LOCKED',
          `another supervisor (pid ${owner}) already runs this self directory (${path}): stop it, or use another --self-dir`,
          { path, pid: owner },
        );
      }
      await rm(path, { force: true });
    }
  }
  throw swarmError('SWARM_ERR_UPDATER_LOCKED', `cannot take the lock ${path}: another supervisor keeps taking it`, {
    path,
  });
}

async function readOwner(path: string): Promise<number | null> {
  try {
    const pid = (JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
