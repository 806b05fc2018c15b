import { mkdtemp, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@swarm/log';
import { parseUpdaterConfig, startUpdater, type RunningUpdater, type UpdaterConfig } from '../../src/index.js';
import { call, type Answer } from './https-client.js';
import { multipart, type Part } from './multipart.js';
import type { PkiFixture } from './pki-fixture.js';
import type { CertifiedKey } from '@swarm/pki';

/** Ports handed out by {@link freePort}: nothing holds them until an agent binds one. */
const handedOut = new Set<number>();

/** A free TCP port on loopback (for the agent, which must be told its port), never one handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Every agent process group a test saw, killed at the end of the file. */
const seenAgents = new Set<number>();

/** Remember an agent PID so {@link killSeenAgents} can kill its group. */
export function trackAgent(pid: number | null | undefined): void {
  if (pid) seenAgents.add(pid);
}

/** Track the agent recorded in an install directory's agent.pid (e.g. one started by an updater process). */
export async function trackRecordedAgent(installDir: string): Promise<void> {
  try {
    trackAgent(Number.parseInt(await readFile(join(installDir, 'agent.pid'), 'utf8'), 10));
  } catch {
    // No agent recorded.
  }
}

/** Kill every process group the tests saw: no agent outlives the test file. */
export function killSeenAgents(): void {
  for (const pid of seenAgents) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  seenAgents.clear();
}

/** The flags of a test updater on loopback. */
export async function testFlags(
  fx: PkiFixture,
  installDir: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return {
    bundle: fx.bundleDir,
    installDir,
    listen: '127.0.0.1:0',
    agentPort: await freePort(),
    stopTimeoutMs: 2000,
    probeIntervalMs: 50,
    healthCheckIntervalMs: 200,
    restartBackoffMs: 100,
    restartBackoffMaxMs: 1000,
    ...extra,
  };
}

/** Calls to one updater, as the master by default. */
export interface UpdaterClient {
  /** Call the updater as `client` (default: the master; null: no certificate). */
  call(
    path: string,
    options?: {
      method?: string;
      client?: CertifiedKey | null;
      headers?: Record<string, string | number>;
      body?: Buffer | string;
    },
  ): Promise<Answer>;
  /** Push a packed release (multipart sha256 + size + tarball) as the master. */
  push(
    release: { file: string; sha256: string; size: number },
    options?: { sha256?: string; client?: CertifiedKey },
  ): Promise<Answer>;
  /** Push arbitrary parts as the master (to POST /update unless `path` says otherwise). */
  pushParts(parts: Part[], options?: { client?: CertifiedKey; path?: string }): Promise<Answer>;
  health(): Promise<Answer>;
}

/** A client of the updater listening on `port`. */
export function updaterClient(fx: PkiFixture, port: number): UpdaterClient {
  const client: UpdaterClient = {
    async call(path, options = {}) {
      const identity = options.client === null ? undefined : (options.client ?? fx.master);
      const answer = await call({
        port,
        path,
        caPem: fx.ca.certPem,
        ...(identity ? { client: identity } : {}),
        ...(options.method ? { method: options.method } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
      trackAgent(answer.body?.agent?.pid);
      return answer;
    },
    async push(release, options = {}) {
      return client.pushParts(
        [
          { name: 'sha256', value: options.sha256 ?? release.sha256 },
          { name: 'size', value: String(release.size) },
          { name: 'tarball', filename: 'release.tgz', path: release.file },
        ],
        options,
      );
    },
    async pushParts(parts, options = {}) {
      const body = await multipart(parts);
      return call({
        port,
        method: 'POST',
        path: options.path ?? '/update',
        caPem: fx.ca.certPem,
        client: options.client ?? fx.master,
        headers: { 'content-type': body.contentType, 'content-length': body.length },
        body: body.stream,
      });
    },
    health: () => client.call('/health'),
  };
  return client;
}

/** An in-process updater on loopback, with its own install directory. */
export interface TestUpdater extends UpdaterClient {
  readonly updater: RunningUpdater;
  readonly config: UpdaterConfig;
  readonly installDir: string;
  readonly port: number;
  readonly agentPort: number;
  close(): Promise<void>;
}

/** Start an updater in this process (no fault points: they would kill the test runner). */
export async function startTestUpdater(fx: PkiFixture, extra: Record<string, unknown> = {}): Promise<TestUpdater> {
  const installDir = await mkdtemp(join(fx.root, 'install-'));
  const config = parseUpdaterConfig({ flags: await testFlags(fx, installDir, extra) });
  const logger = createLogger({
    name: 'updater',
    level: (process.env.SWARM_TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent',
  });
  const updater = await startUpdater({ config, logger });
  const port = updater.address.port;
  trackAgent(updater.daemon.agentProcess.status().pid);
  return {
    ...updaterClient(fx, port),
    updater,
    config,
    installDir,
    port,
    agentPort: config.agentPort!,
    async close() {
      trackAgent(updater.daemon.agentProcess.status().pid);
      await updater.close();
      await trackRecordedAgent(installDir);
    },
  };
}

/** Poll `check` until it returns a truthy value (or fail after `timeoutMs`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await sleep(everyMs);
  }
}

/** Where `current` points (release id), or null. */
export async function currentId(installDir: string): Promise<string | null> {
  try {
    return (await readlink(join(installDir, 'current'))).split('/').pop() ?? null;
  } catch {
    return null;
  }
}

/** The working directory of a process (its code), from /proc. */
export async function cwdOf(pid: number): Promise<string> {
  return readlink(`/proc/${pid}/cwd`);
}

/** The real path of releases/<id>. */
export async function releasePath(installDir: string, id: string): Promise<string> {
  return realpath(join(installDir, 'releases', id));
}

/** Names in releases/ (staging and trash included). */
export async function releaseDirs(installDir: string): Promise<string[]> {
  return (await readdir(join(installDir, 'releases'))).sort();
}

/** The journal. */
export async function readJournal(installDir: string): Promise<any> {
  return JSON.parse(await readFile(join(installDir, 'state.json'), 'utf8'));
}

/** True while a process with that PID exists (zombies excluded). */
export async function pidAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** GET the agent's own /health on its port (plain http, as the fixture agent serves). */
export async function agentHealth(port: number): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return res.json();
}
