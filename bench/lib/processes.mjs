// The processes of a benchmark run: updaters, floor servers, the master driver. Every one is a
// child of the harness, tracked here and stopped (with whatever it spawned) by stopAll().
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from './proc-stats.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SWARM_BIN = join(ROOT, 'packages/cli/bin/swarm.js');
/**
 * The updater as a worker runs it: the bundled self release (scripts/bundle-updater.mjs) that
 * `swarm updater --self-dir` seeds and its supervisor starts, with the same flags.
 */
export const UPDATER_RELEASE_ENTRY = join(ROOT, 'packages/updater/dist-self/updater.mjs');
const LIB = fileURLToPath(new URL('.', import.meta.url));

const tracked = new Set();

/** True when the built CLI has `command` (it is being wired while the benchmark is written). */
export function cliHas(command) {
  const r = spawnSync(process.execPath, [SWARM_BIN, command, '--help'], { encoding: 'utf8' });
  return r.status === 0 && !/unknown command/i.test(r.stderr);
}

/**
 * Write back every dirty page before a timed run (untimed): the updater makes its tree durable
 * with one syncfs(2) before activating it, which would otherwise also pay for the pages the
 * previous run — often the floor's `tar xzf` — left dirty. Each side then starts clean.
 */
export function settleDisk() {
  execFileSync('sync');
}

/** Below Linux's ephemeral range (32768+), where other programs' `listen(0)` never lands. */
const PORT_RANGE = { from: 10_000, to: 32_767 };

function tryBind(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct free TCP ports on 127.0.0.1, chosen below the ephemeral range: a port from
 * `listen(0)`, once released, can be handed to any other program on this shared machine (its
 * tests bind port 0 all the time) before the benchmark's agent binds it. All are held at once
 * while searching, so no two are the same.
 */
export async function freePorts(count) {
  const span = PORT_RANGE.to - PORT_RANGE.from;
  let port = PORT_RANGE.from + Math.floor(Math.random() * span);
  const held = [];
  for (let tries = 0; held.length < count && tries < span; tries++) {
    port = port >= PORT_RANGE.to ? PORT_RANGE.from : port + 1;
    const server = await tryBind(port);
    if (server) held.push(server);
  }
  if (held.length < count) throw new Error(`only ${held.length} free ports below 32768`);
  const ports = held.map((s) => s.address().port);
  await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function track(child, what) {
  const entry = { child, what };
  tracked.add(entry);
  child.once('exit', () => tracked.delete(entry));
  return child;
}

/** Resolve on the first IPC message that matches, reject when the child exits first. */
function waitMessage(child, match, what, stderr = () => '') {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (!match(m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code, signal) =>
      reject(new Error(`${what} exited (${code ?? signal}) before answering: ${stderr().slice(-2000)}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** How long one command may take before the run is declared stuck (a 1 GB release included). */
export const COMMAND_TIMEOUT_MS = 300_000;

/** Reject with a clear error when `promise` takes longer than `ms`: a stuck run must fail, not hang. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Request/response over IPC: `send({ cmd, ... })` resolves with the reply carrying the same id. */
function ipc(child, what) {
  let next = 0;
  return (message) => {
    const id = ++next;
    const reply = waitMessage(child, (m) => m.id === id, what);
    child.send({ ...message, id });
    return withTimeout(reply, COMMAND_TIMEOUT_MS, `${what}: ${message.cmd}`).then((m) => {
      if (!m.ok) throw new Error(`${what}: ${m.error}`);
      return m;
    });
  };
}

/**
 * Parse the updater's pino lines: per operation, each step's ms ('step done' at debug level)
 * and the probe's healthy window ('probe finished', attributed to the operation in flight).
 */
function logBook() {
  const ops = new Map();
  let current = null;
  let buffer = '';
  const waiters = [];
  const feed = (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg === 'step done' || entry.msg === 'step failed') {
        if (!ops.has(entry.operation)) ops.set(entry.operation, { id: entry.operation, kind: entry.kind, steps: {} });
        current = ops.get(entry.operation);
        current.steps[entry.step] = entry.ms;
        // When the harness saw the step end, on the clock of sampleRss (performance.now()).
        current.seenAt = { ...current.seenAt, [entry.step]: performance.now() };
        if (entry.msg === 'step failed') current.failed = entry.code;
      } else if (entry.msg === 'probe finished' && current) {
        const m = /healthy for (\d+) ms/.exec(entry.detail ?? '');
        current.healthyWindowMs = m ? Number(m[1]) : null;
        current.probeChecks = entry.checks;
      }
      for (const w of [...waiters]) {
        if (w.test()) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  };
  return {
    feed,
    ops,
    /** Wait until the log shows the operation that ends with `lastStep`, started after `seen` ops. */
    async nextOp(seen, lastStep, timeoutMs = 10_000) {
      const find = () => [...ops.values()].slice(seen).find((o) => o.steps[lastStep] !== undefined || o.failed);
      if (!find()) {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no '${lastStep}' step in the updater's log`)), timeoutMs);
          waiters.push({
            test: () => find() !== undefined,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
      }
      return find();
    },
  };
}

/**
 * Start an updater as its own process: the bundled updater release a supervisor runs in
 * production (UPDATER_RELEASE_ENTRY) when built, else the CLI's `swarm updater`, else
 * bench/lib/updater-main.mjs (same flags, same runUpdater). Resolves once it logged 'updater ready'.
 */
export async function startUpdater({
  bundleDir,
  installDir,
  port,
  agentPort,
  keep,
  logLevel = 'debug',
  useCli,
  bundleUrl,
  extraFlags = [],
}) {
  mkdirSync(installDir, { recursive: true });
  const flags = [
    ...extraFlags,
    '--bundle',
    bundleDir,
    '--install-dir',
    installDir,
    '--listen',
    `127.0.0.1:${port}`,
    '--agent-port',
    String(agentPort),
    '--keep',
    String(keep),
  ];
  // The production entry when it is built; another build of @swarm/bundle (--bundle-before)
  // needs the unbundled packages, loaded through the CLI (or updater-main.mjs).
  const [entry, args] =
    !bundleUrl && process.env.SWARM_BENCH_UPDATER !== 'cli' && existsSync(UPDATER_RELEASE_ENTRY)
      ? [UPDATER_RELEASE_ENTRY, flags]
      : useCli
        ? [SWARM_BIN, ['updater', ...flags]]
        : [join(LIB, 'updater-main.mjs'), flags];
  const child = track(
    fork(entry, args, {
      env: { ...process.env, SWARM_LOG_LEVEL: logLevel, ...(bundleUrl ? { BENCH_BUNDLE_URL: bundleUrl } : {}) },
      // With bundleUrl, @swarm/bundle resolves to another build of it (--bundle-before).
      execArgv: bundleUrl ? ['--import', join(LIB, 'bundle-override.mjs')] : [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    }),
    `updater ${bundleDir}`,
  );
  const book = logBook();
  let stderr = '';
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (c) => {
      const s = c.toString();
      stderr = (stderr + s).slice(-20_000);
      book.feed(s);
      if (s.includes('"updater ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the updater exited (${code}) before it was ready: ${stderr}`)));
  });
  await ready;
  return { child, pid: child.pid, port, agentPort, installDir, book, stderr: () => stderr };
}

/** Start a floor server (floor-server.mjs); resolves once it listens. */
export async function startFloor({ bundleDir, dir, port, agentPort }) {
  const child = track(
    fork(join(LIB, 'floor-server.mjs'), [], {
      env: { ...process.env, BENCH_FLOOR: JSON.stringify({ bundleDir, dir, port, agentPort }) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
    `floor server ${dir}`,
  );
  await waitMessage(child, (m) => m.ready, 'the floor server');
  return { child, pid: child.pid, port, agentPort, dir, send: ipc(child, 'the floor server') };
}

/** Start the master driver (master-driver.mjs) with the master's TLS files. */
export async function startDriver(files) {
  const child = track(
    fork(join(LIB, 'master-driver.mjs'), [], {
      env: { ...process.env, BENCH_MASTER: JSON.stringify({ files }), SWARM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
    'the master driver',
  );
  await waitMessage(child, (m) => m.ready, 'the master driver');
  return { child, pid: child.pid, send: ipc(child, 'the master driver') };
}

/**
 * Stop tracked processes and what they spawned: the updater's agents run in their own process
 * groups on purpose (they outlive an updater restart), so they are listed first and signalled
 * by pid once their updater is gone.
 */
async function stopEntries(entries) {
  const roots = entries.map((e) => e.child.pid);
  const descendants = processTree(...roots).filter((p) => !roots.includes(p));
  await Promise.all(
    entries.map(
      (e) =>
        new Promise((resolve) => {
          if (e.child.exitCode !== null || e.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => e.child.kill('SIGKILL'), 10_000);
          e.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          e.child.kill('SIGTERM');
        }),
    ),
  );
  for (const pid of descendants) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stop some of the processes started here (updaters, floor servers, drivers), with their children. */
export function stopProcesses(...children) {
  return stopEntries([...tracked].filter((e) => children.includes(e.child)));
}

/** Stop every process started here, with their children. */
export function stopAll() {
  return stopEntries([...tracked]);
}
