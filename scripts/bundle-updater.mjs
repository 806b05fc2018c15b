#!/usr/bin/env node
// Builds the updater release of this installation into packages/updater/dist-self/ (build
// first: `tsc -b`): `updater.mjs` (the updater, bundled), `extract-worker.js` (the archive
// extraction worker it starts, resolved next to it) and `release.json`, whose `start` runs
// it with plain node. `swarm pack --self` packs this directory; `swarm updater --self-dir`
// seeds an empty self directory from it. Its version is the swarm version.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from './esbuild-node.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'packages/updater/dist-self');
const { version } = JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8'));

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await bundleForNode({
  title: `The swarm updater ${version}, bundled by scripts/bundle-updater.mjs; started by its supervisor.`,
  entryPoints: [join(root, 'packages/updater/dist/main.js')],
  outfile: join(outdir, 'updater.mjs'),
});
await bundleForNode({
  title: 'The swarm archive extraction worker (runs in a worker thread of the updater).',
  entryPoints: [join(root, 'packages/bundle/dist/extract-worker.js')],
  outfile: join(outdir, 'extract-worker.js'),
});
const manifest = { name: 'swarm-updater', version, start: ['node', 'updater.mjs'] };
await writeFile(join(outdir, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
// Files ending in .js are ESM here as in the package (the worker is ESM).
await writeFile(join(outdir, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
console.error(`bundle-updater: wrote ${outdir} (version ${version})`);
