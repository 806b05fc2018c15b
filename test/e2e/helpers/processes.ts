import { readdir, readFile, readlink } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * PIDs of the live processes whose working directory is `dir` or below it (from /proc).
 * Every process a fleet starts runs from inside the fleet's temp root — supervisors and CLI
 * children by our choice of cwd, updaters from `<self-dir>/releases/<id>`, agents, install
 * commands and checks from `<install-dir>/releases/<id>` (wiki/reference/layouts.md#release-tarball) — so this finds them
 * all, whoever started them.
 */
export async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cwd = await readlink(`/proc/${name}/cwd`);
      if ((cwd === dir || cwd.startsWith(dir + sep)) && (await isAlive(Number(name)))) pids.push(Number(name));
    } catch {
      // Gone meanwhile, a kernel thread, or a zombie (its cwd is unreadable).
    }
  }
  return pids.sort((a, b) => a - b);
}

/** True while `pid` exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state is the field after the parenthesised command name, which may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The direct children of `pid` (Linux /proc/<pid>/task/<tid>/children). */
export async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  try {
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      const list = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const child of list.trim().split(/\s+/)) if (child) children.push(Number(child));
    }
  } catch {
    // The process is gone: no children.
  }
  const live: number[] = [];
  for (const child of children) if (await isAlive(child)) live.push(child);
  return live.sort((a, b) => a - b);
}

/** Send `signal` to a process group, ignoring one that is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // No such group any more.
  }
}

/** Send `signal` to one process, ignoring one that is already gone. */
export function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
