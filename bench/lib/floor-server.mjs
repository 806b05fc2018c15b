// The floor: the least a host can do to take a release, each step timed.
//
// A minimal Node HTTPS server with mandatory client certificates (the master's), which streams
// a `curl -T` upload to disk while hashing it; then, on request, GNU `tar xzf` into a fresh
// directory, a symlink rename, and a restart of the agent to its first mTLS 200. No journal, no
// verification against a declared digest, no limits, no durability: the physical work only.
//
// Run as a child process (fork) with BENCH_FLOOR = { bundleDir, dir, port, agentPort }.
//   PUT /release?mode=upload  receive + hash, answer { receiveMs, sha256, file, bytes }
//   PUT /release?mode=full    the same, then extract, flip and restart, answer every step's ms
//   IPC { cmd: 'apply', id, file } → { id, extractMs, flipMs, restartMs }
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rename, symlink } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const config = JSON.parse(process.env.BENCH_FLOOR);
const bundle = (name) => readFileSync(join(config.bundleDir, name), 'utf8');
const tls = { ca: bundle('ca.crt'), cert: bundle('updater.crt'), key: bundle('updater.key') };
const host = JSON.parse(bundle('host.json'));
// One TLS context for every probe: building one per request parses the RSA key each time,
// CPU that a tight poll would steal from the agent starting up.
const probeContext = createSecureContext(tls);
let seq = 0;
let agent = null;

await mkdir(join(config.dir, 'releases'), { recursive: true });
await mkdir(join(config.dir, 'uploads'), { recursive: true });

async function receive(req) {
  const began = performance.now();
  const hash = createHash('sha256');
  let bytes = 0;
  const file = join(config.dir, 'uploads', `${process.pid}-${++seq}.tgz`);
  const hasher = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(req, hasher, createWriteStream(file, { flags: 'wx' }));
  return { receiveMs: performance.now() - began, sha256: hash.digest('hex'), file, bytes };
}

async function extract(file, dest) {
  const began = performance.now();
  await mkdir(dest);
  await new Promise((resolve, reject) => {
    const tar = spawn('tar', ['xzf', file, '-C', dest], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (c) => (err += c));
    tar.on('error', reject);
    tar.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}: ${err}`))));
  });
  return performance.now() - began;
}

async function flip(dest) {
  const began = performance.now();
  const tmp = join(config.dir, `.current-${seq}`);
  await symlink(dest, tmp);
  await rename(tmp, join(config.dir, 'current'));
  return performance.now() - began;
}

function versionOf(dir) {
  return JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')).version;
}

/** Stop the agent (SIGTERM, wait for its exit), start the new one, poll until its first mTLS 200. */
async function restart(dir) {
  const began = performance.now();
  if (agent) {
    const old = agent;
    const exited = new Promise((resolve) => old.once('exit', resolve));
    if (old.exitCode === null && old.signalCode === null) process.kill(-old.pid, 'SIGTERM');
    await exited;
  }
  const version = versionOf(dir);
  agent = spawn('node', ['server.mjs'], {
    cwd: dir,
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      BENCH_FLOOR: undefined,
      SWARM_HOST: host.name,
      SWARM_RELEASE_DIR: dir,
      SWARM_RELEASE_VERSION: version,
      SWARM_CA: join(config.bundleDir, 'ca.crt'),
      SWARM_CERT: join(config.bundleDir, 'agent.crt'),
      SWARM_KEY: join(config.bundleDir, 'agent.key'),
      SWARM_AGENT_PORT: String(config.agentPort),
    },
  });
  for (;;) {
    if (await healthy(version)) break;
    if (agent.exitCode !== null) throw new Error(`the floor agent exited ${agent.exitCode}`);
    await sleep(5);
  }
  return performance.now() - began;
}

function healthy(version) {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1',
      port: config.agentPort,
      path: '/health',
      agent: false,
      secureContext: probeContext,
    };
    const req = request(options, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && JSON.parse(body).version === version));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function apply(file) {
  const dest = join(config.dir, 'releases', String(++seq));
  const extractMs = await extract(file, dest);
  const flipMs = await flip(dest);
  const restartMs = await restart(dest);
  return { extractMs, flipMs, restartMs };
}

const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => {
  const mode = new URL(req.url, 'https://x').searchParams.get('mode') ?? 'upload';
  (async () => {
    const received = await receive(req);
    const steps = mode === 'full' ? await apply(received.file) : {};
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ ...received, ...steps }));
  })().catch((err) => {
    res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
    res.end(String(err?.stack ?? err));
  });
});
server.listen(config.port, '127.0.0.1', () => process.send?.({ ready: true }));

process.on('message', (m) => {
  if (m.cmd !== 'apply') return;
  apply(m.file).then(
    (r) => process.send({ id: m.id, ok: true, ...r }),
    (err) => process.send({ id: m.id, ok: false, error: String(err?.stack ?? err) }),
  );
});

const stop = () => {
  if (agent && agent.exitCode === null) {
    try {
      process.kill(-agent.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
