import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packRelease, type PackResult } from '@swarm/bundle';

/**
 * How the fixture agent behaves: `good` answers /health with its release's version;
 * `exit-at-start` exits 3 at once; `http-500` answers 500; `die-after-one` exits after its
 * first healthy answer; `wrong-version` reports another version; `ignore-sigterm` only dies by
 * SIGKILL; `https` serves mTLS with the agent certificate (SWARM_CERT/KEY/CA) and requires a
 * client certificate of the CA; `healthy-once` exits at every start after its first; `chatty`
 * prints 4 KB at start.
 */
export type AgentBehaviour =
  | 'good'
  | 'exit-at-start'
  | 'http-500'
  | 'die-after-one'
  | 'wrong-version'
  | 'ignore-sigterm'
  | 'https'
  | 'healthy-once'
  | 'chatty';

// A few lines of Node: an HTTP server on SWARM_AGENT_PORT, as a real release would run.
const AGENT_SOURCE = `import http from 'node:http';
import https from 'node:https';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const behaviour = process.argv[2] ?? 'good';
const version = process.env.SWARM_RELEASE_VERSION;
const port = Number(process.env.SWARM_AGENT_PORT);
if (behaviour === 'exit-at-start') {
  console.error('agent ' + version + ': exiting at start on purpose');
  process.exit(3);
}
if (behaviour === 'healthy-once') {
  if (existsSync('started-once')) {
    console.error('agent ' + version + ': refusing a second start');
    process.exit(5);
  }
  writeFileSync('started-once', '1');
}
if (behaviour === 'chatty') console.log('x'.repeat(4096));
const handler = (req, res) => {
  if (behaviour === 'http-500') {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('broken on purpose');
    return;
  }
  const reported = behaviour === 'wrong-version' ? '0.0.0-wrong' : version;
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ status: 'ok', version: reported, pid: process.pid, cwd: process.cwd(), env: { host: process.env.SWARM_HOST, ca: process.env.SWARM_CA, cert: process.env.SWARM_CERT, key: process.env.SWARM_KEY, dir: process.env.SWARM_RELEASE_DIR } }));
  if (behaviour === 'die-after-one') {
    console.error('agent ' + version + ': dying after one healthy answer');
    setImmediate(() => process.exit(4));
  }
};
const server = behaviour === 'https'
  ? https.createServer({ key: readFileSync(process.env.SWARM_KEY), cert: readFileSync(process.env.SWARM_CERT), ca: readFileSync(process.env.SWARM_CA), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = req.socket.getPeerCertificate();
      if (!String(peer.subjectaltname).includes('/updater')) { res.writeHead(403); res.end('not the updater'); return; }
      handler(req, res);
    })
  : http.createServer(handler);
server.listen(port, '127.0.0.1', () => console.log('agent ' + version + ' (' + behaviour + ') listening on ' + port));
process.on('SIGTERM', () => {
  if (behaviour === 'ignore-sigterm') return;
  process.exit(0);
});
`;

/** Options of {@link buildRelease}. */
export interface ReleaseOptions {
  readonly version: string;
  readonly behaviour?: AgentBehaviour;
  /** release.json `install`. */
  readonly install?: string[];
  readonly healthyForMs?: number;
  readonly deadlineMs?: number;
  readonly stopTimeoutMs?: number;
  /** Replace the http health check (e.g. `{ tcp: ... }`); null: no health check at all. */
  readonly health?: Record<string, unknown> | null;
  /** Extra files of the tree. */
  readonly files?: Record<string, string>;
}

/** Write a release tree under `root` and pack it with @swarm/bundle (deterministic tarball). */
export async function buildRelease(root: string, options: ReleaseOptions): Promise<PackResult> {
  const behaviour = options.behaviour ?? 'good';
  const tree = join(root, `tree-${options.version}-${behaviour}`);
  await mkdir(tree, { recursive: true });
  const timings = { healthyForMs: options.healthyForMs ?? 300, deadlineMs: options.deadlineMs ?? 5000 };
  const health =
    options.health === null
      ? undefined
      : {
          ...(options.health ?? {
            url: `${behaviour === 'https' ? 'https' : 'http'}://127.0.0.1:\${SWARM_AGENT_PORT}/health`,
          }),
          ...timings,
        };
  const manifest = {
    name: 'web',
    version: options.version,
    start: ['node', 'agent.mjs', behaviour],
    ...(options.install ? { install: options.install } : {}),
    ...(health ? { health } : {}),
    stopTimeoutMs: options.stopTimeoutMs ?? 2000,
  };
  await writeFile(join(tree, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(tree, 'agent.mjs'), AGENT_SOURCE);
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await mkdir(join(tree, name, '..'), { recursive: true });
    await writeFile(join(tree, name), content);
  }
  return packRelease({ tree, out: join(root, `web-${options.version}-${behaviour}.tgz`) });
}
