import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Options of {@link agentRelease}. */
export interface AgentReleaseOptions {
  /** The reference agent answers /health 503 (`--unhealthy`): the release fails its probe. */
  readonly unhealthy?: boolean;
  /** Continuous health the probe requires (short: the suite must be fast). */
  readonly healthyForMs?: number;
  /** Probe deadline: generous for good releases (costs nothing), short for broken ones. */
  readonly deadlineMs?: number;
  /** release.json `install`. */
  readonly install?: readonly string[];
}

/**
 * A release tree of the reference agent (examples/agent-release, built by `npm run build`)
 * at `version`, written to `dir`.
 */
export async function agentRelease(dir: string, version: string, options: AgentReleaseOptions = {}): Promise<string> {
  await cp(join(repoRoot, 'examples/agent-release'), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as Record<string, unknown> & {
    start: string[];
    health: Record<string, unknown>;
  };
  manifest.version = version;
  manifest.health = {
    ...manifest.health,
    healthyForMs: options.healthyForMs ?? 300,
    deadlineMs: options.deadlineMs ?? (options.unhealthy ? 2500 : 20_000),
  };
  manifest.stopTimeoutMs = 2000;
  if (options.unhealthy) manifest.start = [...manifest.start, '--unhealthy'];
  if (options.install) manifest.install = [...options.install];
  await writeFile(join(dir, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}

/** How a broken updater release misbehaves. */
export type BrokenUpdater = 'exits' | 'never-listens' | 'answers-500';

/** What each broken updater runs: the supervisor appends the `swarm updater` flags to `start`. */
const BROKEN_SCRIPTS: Record<BrokenUpdater, string> = {
  exits: `process.stderr.write('broken updater: exiting with 1 on purpose\\n');
process.exit(1);
`,
  'never-listens': `// Runs, never listens: the supervisor must give up at its deadline.
setInterval(() => {}, 1000);
process.on('disconnect', () => process.exit(0));
`,
  'answers-500': `// Listens with the bundle's updater certificate (mutual TLS, like the real one) and
// answers every request 500: up, but not a working updater.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const bundle = arg('--bundle');
const read = (file) => readFileSync(join(bundle, file));
const listen = arg('--listen') ?? '127.0.0.1:' + JSON.parse(read('host.json')).updaterPort;
const colon = listen.lastIndexOf(':');
const server = createServer(
  { ca: read('ca.crt'), cert: read('updater.crt'), key: read('updater.key'), requestCert: true, rejectUnauthorized: true },
  (req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'SWARM_ERR_UPDATER_INTERNAL', message: 'broken updater release: 500 on purpose' }));
  },
);
server.listen(Number(listen.slice(colon + 1)), listen.slice(0, colon));
process.on('disconnect', () => process.exit(0));
`,
};

/** An updater release tree that does not work, `kind` says how (issue 5 acceptance). */
export async function brokenUpdaterRelease(dir: string, version: string, kind: BrokenUpdater): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'broken.mjs'), BROKEN_SCRIPTS[kind]);
  const manifest = { name: 'swarm-updater', version, start: ['node', 'broken.mjs'] };
  await writeFile(join(dir, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dir;
}
