import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packRelease, type PackResult } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';

/**
 * The updater release of this installation: the directory the build writes
 * (`packages/updater/dist-self/`): the updater bundled into one file with its extraction
 * worker, and a `release.json` whose `start` runs it with plain `node` — no node_modules,
 * no registry, no compiler on the worker.
 */
export function selfReleaseTree(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@swarm/updater/package.json')), 'dist-self');
}

/** `swarm pack --self`: pack {@link selfReleaseTree}, checking it is this swarm's version. */
export async function packSelfRelease(options: { out?: string | undefined; version: string }): Promise<PackResult> {
  const tree = selfReleaseTree();
  let manifest: { version?: unknown };
  try {
    manifest = JSON.parse(await readFile(join(tree, 'release.json'), 'utf8')) as { version?: unknown };
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_PACK_TREE_INVALID',
      `the updater release of this installation is missing (${tree}): run \`npm run build\` first`,
      {},
      { cause: err },
    );
  }
  if (manifest.version !== options.version) {
    throw swarmError(
      'SWARM_ERR_PACK_TREE_INVALID',
      `the built updater release is version ${String(manifest.version)}, not ${options.version}: run \`npm run build\``,
    );
  }
  return packRelease({ tree, out: options.out ?? `swarm-updater-${options.version}.tgz` });
}
