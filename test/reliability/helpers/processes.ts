import { readdir, readlink } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * PIDs of the processes whose working directory is `dir` or below it, from /proc. An agent
 * runs with its release directory as cwd (wiki/reference/layouts.md#release-tarball), so this names every agent, install
 * command or health check running from an install directory — whoever started them.
 */
export async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const cwd = await readlink(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + sep)) pids.push(pid);
    } catch {
      // Gone, a kernel thread, or not ours to read.
    }
  }
  return pids.sort((a, b) => a - b);
}

/** SIGKILL every process running from `dir` (the suite's temp root): no agent outlives a test file. */
export async function killProcessesUnder(dir: string): Promise<void> {
  for (const pid of await processesUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
