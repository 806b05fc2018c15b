#!/usr/bin/env node
// `npm run demo`: a real local fleet on loopback, driven by the same commands a user types.
// A master home, three enrolled hosts, three updaters (each a supervisor + updater process
// pair, with the reference agent), then: roll out agent v1, stage v2 everywhere and activate
// it (no second transfer), publish v2.1 to an OCI registry and have every host pull it (when
// Debian's docker-registry is installed), a broken v3 that the canary rolls back and the
// failure budget stops, and the fleet table. Every step says what it
// proves and checks it; the exit code is 0 only if everything behaved as expected.
// Every process it started is stopped on exit, on failure and on Ctrl-C.
// Usage: npm run demo [-- --keep]   (--keep leaves the fleet running and says how to reach it)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
const swarmBin = join(root, 'packages/cli/bin/swarm.js');
const keep = process.argv.includes('--keep');
const hosts = ['h1', 'h2', 'h3'];
const work = mkdtempSync(join(tmpdir(), 'swarm-demo-'));
const home = join(work, 'master');
const started = Date.now();
const children = [];
/** The OCI registry of the pull step, when docker-registry is installed. */
let registry = null;

const say = (line) => process.stdout.write(`${line}\n`);
const step = (title) => say(`\n\x1b[1m▶ ${title}\x1b[0m  (${((Date.now() - started) / 1000).toFixed(1)}s)`);
const proof = (line) => say(`  ✔ ${line}`);

class DemoFailure extends Error {}
function expect(condition, message) {
  if (!condition) throw new DemoFailure(message);
}

/** Run `swarm …` to completion; returns { code, stdout, stderr }. */
function swarm(args, { quiet = false } = {}) {
  const res = spawnSync(process.execPath, [swarmBin, '--home', home, ...args], { encoding: 'utf8', env: demoEnv() });
  if (!quiet && res.stderr.trim()) process.stderr.write(indent(res.stderr));
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}
function swarmJson(args) {
  const res = swarm([...args, '--json'], { quiet: true });
  try {
    return { ...res, json: JSON.parse(res.stdout) };
  } catch {
    throw new DemoFailure(`swarm ${args.join(' ')} printed no JSON (exit ${res.code}):\n${res.stderr}`);
  }
}
const indent = (text) => text.replace(/^/gm, '    ');
const demoEnv = () => ({ ...process.env, SWARM_LOG_LEVEL: process.env.SWARM_LOG_LEVEL ?? 'warn' });

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A release tree for the reference agent, at `version`, broken on purpose if asked. */
function releaseTree(version, { broken = false } = {}) {
  const dir = join(work, `agent-${version}`);
  cpSync(join(root, 'examples/agent-release'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8'));
  manifest.version = version;
  // Short probe windows keep the demo quick; a real release would use seconds.
  manifest.health = { ...manifest.health, healthyForMs: 800, deadlineMs: broken ? 4000 : 10000 };
  if (broken) manifest.start = [...manifest.start, '--unhealthy'];
  writeFileSync(join(dir, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

function agentPidOf(host) {
  try {
    const pid = Number.parseInt(readFileSync(join(work, host, 'app', 'agent.pid'), 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  // Agents run in their own process groups (they outlive updater restarts by design).
  const agents = hosts.map(agentPidOf).filter((pid) => pid !== null);
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  }
  for (const pid of agents) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  const deadline = Date.now() + 5000;
  for (const child of children) {
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
  if (registry) {
    try {
      process.kill(registry.pid, 'SIGKILL');
    } catch {}
    rmSync(registry.dir, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}

async function waitUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = check();
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new DemoFailure(`${what} did not happen within ${timeoutMs / 1000}s${last?.why ? `: ${last.why}` : ''}`);
}

const outcomes = (result) => Object.fromEntries(result.results.map((r) => [r.host, r.outcome]));

async function main() {
  say(`swarm demo — a master and three workers on this machine, in ${work}`);

  step('swarm init: a CA, the master identity and the host registry');
  expect(swarm(['init', '--trust-domain', 'demo.swarm']).code === 0, 'swarm init failed');
  proof('master home created (ca/, master/, registry.db)');

  step('swarm enroll --updater: certificates from our CA for three hosts, pins recorded');
  const ports = {};
  for (const host of hosts) {
    ports[host] = { updater: await freePort(), agent: await freePort() };
    const res = swarm(
      [
        'enroll',
        '--host',
        host,
        '--address',
        '127.0.0.1',
        '--updater',
        '--out',
        join(work, host, 'bundle'),
        '--updater-port',
        String(ports[host].updater),
        '--agent-port',
        String(ports[host].agent),
      ],
      { quiet: true },
    );
    expect(res.code === 0, `swarm enroll ${host} failed:\n${res.stderr}`);
  }
  const enrolled = swarmJson(['hosts']).json;
  expect(
    enrolled.length === 3 && enrolled.every((h) => /^[0-9a-f]{64}$/.test(h.updaterFingerprint)),
    'hosts are not all pinned',
  );
  proof(
    `3 hosts enrolled, each with its updater pin (${enrolled.map((h) => `${h.name} ${h.updaterFingerprint.slice(0, 12)}…`).join(', ')})`,
  );

  const { registryAvailable, startRegistry } = await tsImport(
    '../packages/oci-client/test/fixtures/docker-registry.ts',
    import.meta.url,
  );
  if (registryAvailable()) registry = await startRegistry();
  const registryFlags = registry ? ['--registry-auth', registry.authFile, '--registry-ca', registry.caFile] : [];

  step('swarm updater ×3: one supervisor + updater per host, separate processes, mutual TLS on loopback');
  for (const host of hosts) {
    const log = openSync(join(work, `${host}.log`), 'a');
    const child = spawn(
      process.execPath,
      [
        swarmBin,
        'updater',
        '--bundle',
        join(work, host, 'bundle'),
        '--install-dir',
        join(work, host, 'app'),
        '--self-dir',
        join(work, host, 'self'),
        '--listen',
        `127.0.0.1:${ports[host].updater}`,
        '--healthy-for-ms',
        '800',
        ...registryFlags,
      ],
      {
        stdio: ['ignore', log, log],
        detached: true,
        env: demoEnv(),
      },
    );
    children.push(child);
  }
  await waitUntil(
    'all three updaters answering /health',
    () => {
      const status = swarmJson(['status', '--timeout', '2000']).json;
      const down = status.filter((s) => !s.reachable).map((s) => `${s.host}: ${s.error?.code}`);
      return { ok: down.length === 0, why: down.join(', ') };
    },
    30000,
  );
  proof('every updater answers GET /health over mTLS, its certificate matching the pin');

  step('swarm update --all: agent v1');
  const v1 = swarmJson(['update', '--all', '--tree', releaseTree('1.0.0')]);
  expect(v1.code === 0, `v1 rollout exited ${v1.code}:\n${v1.stderr}`);
  expect(
    Object.values(outcomes(v1.json)).every((o) => o === 'updated'),
    `v1 outcomes: ${JSON.stringify(outcomes(v1.json))}`,
  );
  proof(`v1 on every host: ${JSON.stringify(outcomes(v1.json))}`);

  step('swarm update --all --stage-only: agent v2 transferred, verified and installed everywhere, nothing switched');
  const staged = swarmJson(['update', '--all', '--tree', releaseTree('2.0.0'), '--stage-only']);
  expect(staged.code === 0, `the v2 stage exited ${staged.code}:\n${staged.stderr}`);
  expect(
    Object.values(outcomes(staged.json)).every((o) => o === 'staged'),
    `v2 stage outcomes: ${JSON.stringify(outcomes(staged.json))}`,
  );
  const waiting = swarmJson(['status']).json;
  expect(
    waiting.every((s) => s.active?.version === '1.0.0' && s.staged?.version === '2.0.0' && s.agent?.healthy),
    `fleet state after the stage: ${JSON.stringify(waiting)}`,
  );
  proof('v2 staged on every host; every host still runs v1, its agent untouched');

  step('swarm activate --all: the switch, canary first, then the rest — nothing transferred');
  const v2 = swarmJson(['activate', '--all']);
  expect(v2.code === 0, `the v2 activation exited ${v2.code}:\n${v2.stderr}`);
  expect(
    Object.values(outcomes(v2.json)).every((o) => o === 'updated'),
    `v2 outcomes: ${JSON.stringify(outcomes(v2.json))}`,
  );
  proof(`v2 on every host, v1 kept as prev: ${JSON.stringify(outcomes(v2.json))}`);

  let good = '2.0.0';
  if (registry) {
    step(`swarm publish, then swarm update --all --from: agent v2.1 pulled by every host from an OCI registry (${registry.host})`);
    const ref = `${registry.host}/demo/agent:2.1.0`;
    const published = swarmJson(['publish', ref, '--tree', releaseTree('2.1.0'), ...registryFlags]);
    expect(published.code === 0, `swarm publish exited ${published.code}:\n${published.stderr}`);
    proof(`published ${published.json.name} ${published.json.version} as ${published.json.reference}`);
    const pulled = swarmJson(['update', '--all', '--from', ref, ...registryFlags]);
    expect(pulled.code === 0, `the pull rollout exited ${pulled.code}:\n${pulled.stderr}`);
    expect(
      Object.values(outcomes(pulled.json)).every((o) => o === 'updated'),
      `v2.1 outcomes: ${JSON.stringify(outcomes(pulled.json))}`,
    );
    proof(`the tag resolved once to ${published.json.digest.slice(0, 19)}…; each host pulled it and switched: ${JSON.stringify(outcomes(pulled.json))}`);
    good = '2.1.0';
  } else {
    step('swarm update --from: skipped — docker-registry is not installed');
    say('  (apt-get install -y --no-install-recommends docker-registry apache2-utils to see hosts pull from an OCI registry)');
  }

  step('swarm update --all: a broken v3 whose health check fails');
  const v3 = swarmJson(['update', '--all', '--tree', releaseTree('3.0.0', { broken: true })]);
  const o3 = outcomes(v3.json);
  expect(v3.code === 1, `the broken rollout should exit 1, exited ${v3.code}`);
  expect(o3.h1 === 'rolled_back' && o3.h2 === 'skipped' && o3.h3 === 'skipped', `v3 outcomes: ${JSON.stringify(o3)}`);
  const canary = v3.json.results.find((r) => r.host === 'h1');
  proof(
    `the canary h1 failed its probe and rolled back by itself (${canary.error?.code}), now on ${canary.release?.version}`,
  );
  proof('the failure budget (0) stopped the rollout: h2 and h3 were never touched (skipped), exit code 1');

  step('swarm status: the fleet');
  const table = swarm(['status'], { quiet: true });
  say(indent(table.stdout.trimEnd()));
  const status = swarmJson(['status']).json;
  expect(
    status.every((s) => s.reachable && s.active?.version === good && s.agent?.healthy),
    `fleet state: ${JSON.stringify(status)}`,
  );
  proof(`every host runs v${good}, its agent healthy; v3 runs nowhere`);

  step('swarm history');
  say(indent(swarm(['history', '--limit', '3'], { quiet: true }).stdout.trimEnd()));

  say(`\n\x1b[1mdemo passed\x1b[0m in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  if (keep) {
    for (const child of children) child.unref();
    say(`\nThe fleet keeps running (--keep). Talk to it with:
  npx swarm --home ${home} status
  npx swarm --home ${home} update --all --tree examples/agent-release --force
Updater logs: ${work}/h*.log. Stop it: kill the process groups ${children.map((c) => c.pid).join(' ')} (kill -- -PID), and the agents (pid in ${work}/h*/app/agent.pid).`);
  }
}

process.once('SIGINT', () => {
  say('\ninterrupted: stopping the fleet');
  cleanup();
  process.exit(130);
});
process.once('SIGTERM', () => {
  cleanup();
  process.exit(143);
});

try {
  expect(
    existsSync(join(root, 'examples/agent-release/agent.mjs')),
    'examples/agent-release/agent.mjs is missing: run npm run build',
  );
  await main();
  if (!keep) cleanup();
} catch (err) {
  say(`\n\x1b[31mdemo failed:\x1b[0m ${err instanceof DemoFailure ? err.message : err.stack}`);
  for (const host of hosts) {
    const log = join(work, `${host}.log`);
    if (existsSync(log))
      say(`--- ${host}.log (last lines)\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
  }
  cleanup();
  process.exitCode = 1;
}
