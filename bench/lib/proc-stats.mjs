// CPU and memory of process trees, read from /proc (Linux only, like the benchmark).
//
// CPU of a tree = utime + stime + cutime + cstime of every live process in it. A child that
// exits and is reaped moves its time into its parent's cutime/cstime, so the delta between
// two readings counts every process that ran in the tree in between, once.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat (or null when the process is gone). */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses: split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 of proc(5): field n is f[n - 3].
  return {
    ppid: Number(f[1]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
    starttime: Number(f[19]),
  };
}

/** Every live process, as pid → ppid. */
function parentMap() {
  const map = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat) map.set(Number(name), stat.ppid);
  }
  return map;
}

/** The roots and all their live descendants, each once. */
export function processTree(...roots) {
  const parents = parentMap();
  const children = new Map();
  for (const [child, parent] of parents) {
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(child);
  }
  const out = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const p = queue.shift();
    if (!parents.has(p) || out.has(p)) continue;
    out.add(p);
    queue.push(...(children.get(p) ?? []));
  }
  return [...out];
}

/** CPU seconds used so far by the trees rooted at `pids` (reaped children included). */
export function treeCpuSeconds(pids) {
  let ticks = 0;
  for (const pid of processTree(...pids)) {
    const s = readStat(pid);
    if (s) ticks += s.utime + s.stime + s.cutime + s.cstime;
  }
  return ticks / CLK_TCK;
}

/** CPU seconds of this process's reaped children (curl, xargs… spawned by the harness). */
export function reapedChildrenCpuSeconds() {
  const s = readStat('self');
  return (s.cutime + s.cstime) / CLK_TCK;
}

function statusField(pid, field) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resident memory now, in bytes (null when gone). */
export const rssBytes = (pid) => statusField(pid, 'VmRSS');
/** Resident anonymous memory (heap, buffers, stacks): RSS minus mapped files (the node binary's pages). */
export const anonRssBytes = (pid) => statusField(pid, 'RssAnon');
/** Peak resident memory since the process started (VmHWM), in bytes. */
export const peakRssBytes = (pid) => statusField(pid, 'VmHWM');

/**
 * Sample the RSS of `pid` every `intervalMs` until stopped: returns `stop()` resolving to the
 * samples `{ t, rss }` (t in ms since the start) and the peak.
 */
export function sampleRss(pid, intervalMs = 25) {
  const start = performance.now();
  const samples = [];
  const take = () => {
    const rss = rssBytes(pid);
    if (rss !== null) samples.push({ t: Math.round(performance.now() - start), rss, anon: anonRssBytes(pid) });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return { samples, peak: Math.max(0, ...samples.map((s) => s.rss)) };
    },
  };
}
