#!/usr/bin/env node
// Bundles the reference agent (packages/agent/dist/main.js, so build first: `tsc -b`) into
// one file, examples/agent-release/agent.mjs, that runs with plain `node` and no
// node_modules: the agent ships inside a release, and a worker has only Node (wiki/reference/guarantees.md#requirements-and-installation).
// Usage: node scripts/bundle-agent.mjs [--out FILE]   (default examples/agent-release/agent.mjs)
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleForNode } from './esbuild-node.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = resolve(root, 'packages/agent/dist/main.js');

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outfile = resolve(values.out ?? resolve(root, 'examples/agent-release/agent.mjs'));

if (!existsSync(entry)) {
  console.error(`bundle-agent: ${entry} is missing; build first (npm run build, or npx tsc -b packages/agent)`);
  process.exit(1);
}

await bundleForNode({
  title: 'The swarm reference agent, bundled by scripts/bundle-agent.mjs. Run: node agent.mjs --help',
  entryPoints: [entry],
  outfile,
});
console.error(`bundle-agent: wrote ${outfile}`);
