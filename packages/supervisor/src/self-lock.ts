import { open, readFile, rm } from 'node:fs/promises';

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
        throw new Error(`another supervisor (pid ${owner}) already runs this self directory (${path})`);
      }
      await rm(path, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${path}`);
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
