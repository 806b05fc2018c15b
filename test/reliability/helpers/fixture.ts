import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packRelease, type PackResult } from '@swarm/bundle';
import { createLogger } from '@swarm/log';
import { parseUpdaterConfig, startUpdater, type RunningUpdater } from '@swarm/updater';
import {
  buildRelease,
  freePort,
  pidAlive,
  spawnUpdater,
  testFlags,
  updaterClient,
  waitFor,
  type PkiFixture,
  type ReleaseOptions,
  type UpdaterClient,
  type UpdaterProcess,
} from './package-helpers.js';

/** A packed release the suite knows the tree of, so it can check an extracted copy is complete. */
export interface KnownRelease extends PackResult {
  /** `<version>-<sha256[0:12]>`, the directory name on a worker. */
  readonly id: string;
  /** The tree it was packed from. */
  readonly tree: string;
}

/** Build a release with the updater tests' fixture agent (see packages/updater/test/helpers/releases.ts). */
export async function fixtureRelease(root: string, options: ReleaseOptions): Promise<KnownRelease> {
  const packed = await buildRelease(root, options);
  // releases.ts writes the tree at <root>/tree-<version>-<behaviour>.
  return known(packed, join(root, `tree-${options.version}-${options.behaviour ?? 'good'}`));
}

/**
 * A release of `files` small files in nested directories (plus the fixture agent): the
 * "multi-thousand-file release" of the random-interruption runs, where file count — not
 * bytes — is what makes extraction, flushing and pruning take time (wiki/reference/platform-facts.md).
 */
export async function manyFileRelease(root: string, version: string, files: number): Promise<KnownRelease> {
  const small = await fixtureRelease(join(root, `base-${version}`), { version });
  const tree = join(root, `many-${version}`);
  await cp(small.tree, tree, { recursive: true });
  for (let i = 0; i < files; i += 1) {
    const dir = join(tree, 'data', `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `f${i}.txt`), `${version} file ${i}\n`);
  }
  return known(await packRelease({ tree, out: join(root, `many-${version}.tgz`) }), tree);
}

function known(packed: PackResult, tree: string): KnownRelease {
  return { ...packed, id: `${packed.version}-${packed.sha256.slice(0, 12)}`, tree };
}

const silent = () => createLogger({ name: 'updater', level: 'silent' });

/** An updater run inside the test process on a given install directory (the restart after a kill). */
export interface InProcessUpdater {
  readonly updater: RunningUpdater;
  readonly client: UpdaterClient;
  close(): Promise<void>;
}

/**
 * Start an updater in this process on `installDir`: recovery runs exactly as in a real
 * `swarm updater` start. Fault points stay inert (this process has no SWARM_TEST_KILL_AT).
 */
export async function startInProcess(
  fx: PkiFixture,
  installDir: string,
  agentPort: number,
  extra: Record<string, unknown> = {},
): Promise<InProcessUpdater> {
  const config = parseUpdaterConfig({ flags: await testFlags(fx, installDir, { agentPort, ...extra }) });
  const updater = await startUpdater({ config, logger: silent() });
  return { updater, client: updaterClient(fx, updater.address.port), close: () => updater.close() };
}

/** The flags of an updater process of the suite (fast timings, loopback). */
export function processFlags(installDir: string, agentPort: number, extra: Record<string, string | number> = {}) {
  return {
    '--install-dir': installDir,
    '--agent-port': agentPort,
    '--probe-interval-ms': 50,
    '--health-check-interval-ms': 200,
    '--stop-timeout-ms': 2000,
    '--restart-backoff-ms': 100,
    '--restart-backoff-max-ms': 1000,
    ...extra,
  };
}

/** Start an updater process (packages/updater/test/fixtures/updater-main.ts) and wait until it listens. */
export async function startProcess(
  fx: PkiFixture,
  installDir: string,
  agentPort: number,
  env: Record<string, string> = {},
  extra: Record<string, string | number> = {},
): Promise<{ process: UpdaterProcess; client: UpdaterClient; port: number }> {
  const p = spawnUpdater(fx, processFlags(installDir, agentPort, extra), env);
  const { port } = await p.ready;
  return { process: p, client: updaterClient(fx, port), port };
}

/**
 * An install directory with `releases` pushed in order (the last one active) and `staged`
 * staged beside them when given, its updater
 * stopped and its agent killed: a template that each case copies, so a case starts from a
 * committed state in milliseconds instead of a whole update.
 */
export async function installTemplate(
  fx: PkiFixture,
  releases: readonly KnownRelease[],
  staged?: KnownRelease,
): Promise<string> {
  const dir = await mkdtemp(join(fx.root, 'template-'));
  if (releases.length === 0) return dir;
  const u = await startInProcess(fx, dir, await freePort());
  try {
    for (const release of releases) {
      const res = await u.client.push(release);
      if (res.status !== 200)
        throw new Error(`building the template: ${release.id} answered ${res.status} ${res.text}`);
    }
    if (staged) {
      const res = await u.client.pushParts(
        [
          { name: 'sha256', value: staged.sha256 },
          { name: 'tarball', filename: 'release.tgz', path: staged.file },
        ],
        { path: '/stage' },
      );
      if (res.status !== 200) throw new Error(`building the template: staging ${staged.id} answered ${res.status}`);
    }
  } finally {
    await u.close();
  }
  const pid = Number.parseInt(await readFile(join(dir, 'agent.pid'), 'utf8'), 10);
  process.kill(-pid, 'SIGKILL');
  await waitFor('the template agent to die', async () => !(await pidAlive(pid)));
  return dir;
}

/** A private copy of a template install directory (`current` stays a relative symlink). */
export async function cloneInstall(fx: PkiFixture, template: string): Promise<string> {
  const dir = await mkdtemp(join(fx.root, 'install-'));
  await cp(template, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}
