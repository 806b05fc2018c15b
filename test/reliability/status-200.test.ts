/**
 * Load (issue 7 §7): `swarm status` over 200 enrolled hosts — 20 real updaters and 180
 * that do not answer — finishes in a time bounded by its per-host `--timeout`, lists every
 * host exactly once, the 20 reachable with their versions and the 180 unreachable with a
 * reason.
 *
 * The real CLI runs as its own process (`packages/cli/bin/swarm.js status --json --home …`)
 * against a real master home (`swarm init`). Enrolling costs two RSA key pairs and two
 * node-forge signatures per host (seconds on a loaded 2-core box), so one host is enrolled
 * with `swarm enroll --updater` and the 19 other real updaters serve the same worker bundle,
 * recorded with its pins through @swarm/inventory; the 180 others get dummy pins, since no
 * TLS handshake ever completes with them. Each real updater is a full in-process updater
 * (its own install directory and lock) reached over pinned mutual TLS, like any other.
 *
 * The 180 are three kinds of silence, all on loopback so that the test does not depend on
 * this machine's routes (a TEST-NET address is refused at once on some networks and
 * intercepted on others):
 * - closed ports: connection refused;
 * - listeners that accept TCP and never speak TLS: a blackholed host, as the client sees it
 *   (its connect budget covers TCP and the TLS handshake);
 * - servers with the real updater certificate that complete the handshake, send headers
 *   and then trickle the body a byte at a time: an updater gone bad. Only a deadline on the
 *   whole call stops them — the client's own timeouts are per phase and per chunk.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@swarm/log';
import { openRegistry } from '@swarm/inventory';
import { parseUpdaterConfig, startUpdater, type RunningUpdater } from '@swarm/updater';
import { swarm } from '../cli-harness.js';
import { freePort } from './helpers/package-helpers.js';
import { intParam } from './helpers/prng.js';
import { Results } from './helpers/results.js';

const REAL = 20;
const REFUSED = 90;
const SILENT = 80;
const STALLING = 10;
/** `swarm status --timeout`: the per-host budget of the whole call. */
// 4 s: the 20 real updaters and the stalling servers share this test's process and 2 cores.
const TIMEOUT_MS = intParam('SWARM_RELIABILITY_STATUS_TIMEOUT_MS', 4000);
/**
 * Every host is asked at once, so the command needs one budget, plus its own start (loading
 * modules, opening the registry) and 200 connections on a 2-core box that may be busy with
 * other tests. Generous on purpose: what it catches is a command that waits a multiple of
 * the budget, or forever (the stalling hosts, without a deadline on the whole call).
 */
const BOUND_MS = 2 * TIMEOUT_MS + 10_000;
/** Past this the CLI is killed, so a hang fails the test instead of stalling the suite. */
const KILL_AFTER_MS = BOUND_MS + 20_000;

const swarmBin = fileURLToPath(new URL('../../packages/cli/bin/swarm.js', import.meta.url));
const results = new Results('status-200', 'fast', {
  hosts: REAL + REFUSED + SILENT + STALLING,
  real: REAL,
  refused: REFUSED,
  silent: SILENT,
  stalling: STALLING,
  timeoutMs: TIMEOUT_MS,
  boundMs: BOUND_MS,
});
const figures: Record<string, number | string> = {};

let root: string;
let home: string;
let env: Record<string, string>;
const updaters: RunningUpdater[] = [];
const servers: (Server | TlsServer)[] = [];
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();
/** Host name → kind, as enrolled. */
const kinds = new Map<string, 'real' | 'refused' | 'silent' | 'stalling'>();
let realVersion = '';

const name = (prefix: string, i: number) => `${prefix}-${String(i).padStart(3, '0')}`;
const dummyPin = (host: string) => createHash('sha256').update(`dummy pin of ${host}`).digest('hex');

async function listen<S extends Server | TlsServer>(server: S): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarm-status-200-'));
  home = join(root, 'home');
  env = { HOME: root, PATH: process.env.PATH ?? '/usr/bin:/bin', SWARM_LOG_LEVEL: 'warn' };
  const init = await swarm(['init', '--home', home, '--trust-domain', 'status.test'], env);
  assert.equal(init.code, 0, init.stderr);

  // The one enrolled host, the normal way; its bundle serves every real updater.
  const bundle = join(root, 'bundle');
  // Its port goes into the registry at enrollment, before the updater can start.
  const first = realUpdater(bundle, await freePort());
  const enroll = await swarm(
    ['enroll', '--home', home, '--host', name('up', 0), '--address', '127.0.0.1', '--updater', '--out', bundle,
      '--updater-port', String(first.port), '--agent-port', String(first.agentPort)], // prettier-ignore
    env,
  );
  assert.equal(enroll.code, 0, enroll.stderr);
  kinds.set(name('up', 0), 'real');
  const firstUpdater = await first.start();
  realVersion = firstUpdater.version;

  const registry = openRegistry(join(home, 'registry.db'), { create: false });
  try {
    const enrolled = registry.getHost(name('up', 0))!;
    const pins = { updaterFingerprint: enrolled.updaterFingerprint, agentFingerprint: enrolled.agentFingerprint };
    for (let i = 1; i < REAL; i += 1) {
      const updater = await realUpdater(bundle, 0).start();
      registry.addHost({
        name: name('up', i),
        address: '127.0.0.1',
        updaterPort: updater.address.port,
        agentPort: 9,
        ...pins,
      });
      kinds.set(name('up', i), 'real');
    }

    // Accept TCP, never speak: the TLS handshake never completes.
    const silent = await Promise.all(
      Array.from({ length: SILENT }, () =>
        listen(
          createServer((socket) => {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            socket.on('error', () => undefined);
          }),
        ),
      ),
    );
    // The real updater certificate, a completed handshake, then an answer that never ends.
    const tls = {
      cert: await readFile(join(bundle, 'updater.crt'), 'utf8'),
      key: await readFile(join(bundle, 'updater.key'), 'utf8'),
      ca: await readFile(join(bundle, 'ca.crt'), 'utf8'),
      requestCert: true,
      rejectUnauthorized: true,
    };
    const stalling = await Promise.all(
      Array.from({ length: STALLING }, () =>
        listen(
          createTlsServer(tls, (socket) => {
            sockets.add(socket);
            socket.on('error', () => undefined);
            socket.once('data', () => {
              socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{');
              const timer = setInterval(() => socket.write(' '), 100);
              timers.add(timer);
              socket.on('close', () => {
                clearInterval(timer);
                timers.delete(timer);
                sockets.delete(socket);
              });
            });
          }),
        ),
      ),
    );
    // Closed ports: bound while every other listener is up (so they differ from all of
    // them and from each other), then closed.
    const closers: Server[] = [];
    const closed = await Promise.all(
      Array.from({ length: REFUSED }, async () => {
        const server = createServer();
        closers.push(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return (server.address() as { port: number }).port;
      }),
    );
    await Promise.all(closers.map((c) => new Promise((resolve) => c.close(resolve))));
    const add = (
      prefix: string,
      kind: 'refused' | 'silent' | 'stalling',
      ports: number[],
      pin: (h: string) => string,
    ) =>
      ports.forEach((port, i) => {
        const host = name(prefix, i);
        registry.addHost({
          name: host,
          address: '127.0.0.1',
          updaterPort: port,
          agentPort: 9,
          updaterFingerprint: pin(host),
          agentFingerprint: dummyPin(host),
        });
        kinds.set(host, kind);
      });
    add('refused', 'refused', closed, dummyPin);
    add('silent', 'silent', silent, dummyPin);
    // Pinned like the real ones: the connection is accepted, the answer is what fails.
    add('stalling', 'stalling', stalling, () => pins.updaterFingerprint!);
  } finally {
    registry.close();
  }
});

/**
 * A real updater on `bundle` and its own install directory, listening on `port` (0: any
 * free port, read back from the started updater).
 */
function realUpdater(bundle: string, port: number) {
  const agentPort = 9; // discard: no release is ever installed, so no agent ever listens
  return {
    port,
    agentPort,
    start: async () => {
      const installDir = join(root, 'installs', `u${updaters.length}`);
      await mkdir(installDir, { recursive: true });
      const config = parseUpdaterConfig({ flags: { bundle, installDir, listen: `127.0.0.1:${port}`, agentPort } });
      const updater = await startUpdater({ config, logger: createLogger({ name: 'updater', level: 'silent' }) });
      updaters.push(updater);
      return updater;
    },
  };
}

after(async () => {
  await results.finish('swarm status over 200 hosts', figures);
  for (const timer of timers) clearInterval(timer);
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await Promise.all(updaters.map((u) => u.close().catch(() => undefined)));
  await rm(root, { recursive: true, force: true });
});

interface StatusRow {
  host: string;
  reachable: boolean;
  version: string | null;
  busy: boolean | null;
  active: unknown;
  agent: { running: boolean; healthy: boolean } | null;
  error: { code: string; message: string } | null;
}

/** Run the real CLI as its own process; its wall time from spawn to exit. */
async function statusProcess(): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [swarmBin, 'status', '--json', '--home', home, '--timeout', String(TIMEOUT_MS)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, stdout, stderr, ms: Math.round(performance.now() - t0) };
}

describe(`swarm status over ${REAL + REFUSED + SILENT + STALLING} hosts`, () => {
  it(`finishes within ${BOUND_MS} ms (--timeout ${TIMEOUT_MS}): every host once, ${REAL} reachable with versions, the rest unreachable with a reason`, async () => {
    const run = await statusProcess();
    figures['hosts'] = kinds.size;
    figures['wall time (ms)'] = run.ms;
    figures['bound (ms)'] = BOUND_MS;
    assert.equal(run.code, 0, `swarm status exited ${run.code} after ${run.ms} ms: ${run.stderr}`);
    assert.ok(run.ms <= BOUND_MS, `swarm status took ${run.ms} ms, more than ${BOUND_MS} ms`);
    const rows = JSON.parse(run.stdout) as StatusRow[];

    assert.equal(rows.length, kinds.size);
    assert.deepEqual(
      rows.map((r) => r.host).sort(),
      [...kinds.keys()].sort(),
      'every enrolled host appears exactly once',
    );
    const byKind = new Map<string, StatusRow[]>();
    for (const row of rows) byKind.set(kinds.get(row.host)!, [...(byKind.get(kinds.get(row.host)!) ?? []), row]);
    const problems: string[] = [];
    for (const row of byKind.get('real') ?? []) {
      if (!row.reachable || row.error !== null) problems.push(`${row.host}: unreachable: ${JSON.stringify(row.error)}`);
      else if (row.version !== realVersion || row.busy !== false || row.active !== null || row.agent?.running !== false)
        problems.push(`${row.host}: ${JSON.stringify(row)}`);
    }
    const expectedCodes: Record<string, RegExp> = {
      // A closed port may be taken again meanwhile by another test's listen(0): any client error.
      refused: /^SWARM_ERR_CLIENT_/,
      // The connect budget and the call's deadline are the same length: either may fire first.
      silent: /^SWARM_ERR_CLIENT_(UNREACHABLE|TIMEOUT)$/,
      stalling: /^SWARM_ERR_CLIENT_TIMEOUT$/,
    };
    for (const [kind, code] of Object.entries(expectedCodes)) {
      for (const row of byKind.get(kind) ?? []) {
        if (row.reachable || row.version !== null || !row.error || !code.test(row.error.code) || !row.error.message)
          problems.push(`${row.host} (${kind}): ${JSON.stringify(row)}`);
      }
    }
    const refused = byKind.get('refused') ?? [];
    const econnrefused = refused.filter((r) => /ECONNREFUSED/.test(r.error?.message ?? '')).length;
    if (econnrefused < refused.length * 0.9)
      problems.push(`only ${econnrefused} closed ports were reported as refused`);

    for (const [kind, count] of [
      ['real', REAL],
      ['refused', REFUSED],
      ['silent', SILENT],
      ['stalling', STALLING],
    ] as const) {
      const got = byKind.get(kind) ?? [];
      const codes = [...new Set(got.map((r) => r.error?.code ?? 'none'))].sort().join(', ');
      results.add({
        hosts: kind,
        enrolled: count,
        listed: got.length,
        reachable: got.filter((r) => r.reachable).length,
        errors: codes,
      });
    }
    results.add({
      hosts: 'all (one swarm status --json)',
      enrolled: kinds.size,
      listed: rows.length,
      reachable: rows.filter((r) => r.reachable).length,
      errors: `wall time ${run.ms} ms (bound ${BOUND_MS})`,
    });
    figures['reachable'] = rows.filter((r) => r.reachable).length;
    figures['unreachable with a reason'] = rows.filter((r) => !r.reachable && r.error?.code).length;
    assert.deepEqual(problems, []);
    assert.equal(byKind.get('real')?.length, REAL);
    assert.equal(rows.filter((r) => !r.reachable).length, REFUSED + SILENT + STALLING);
  });
});
