#!/usr/bin/env node
// Bundles the reference agent (packages/agent/dist/main.js, so build first: `tsc -b`) into
// one file, examples/agent-release/agent.mjs, that runs with plain `node` and no
// node_modules: the agent ships inside a release, and a worker has only Node (SPEC.md §9).
// Usage: node scripts/bundle-agent.mjs [--out FILE]   (default examples/agent-release/agent.mjs)
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = resolve(root, 'packages/agent/dist/main.js');

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outfile = resolve(values.out ?? resolve(root, 'examples/agent-release/agent.mjs'));

if (!existsSync(entry)) {
  console.error(`bundle-agent: ${entry} is missing; build first (npm run build, or npx tsc -b packages/agent)`);
  process.exit(1);
}

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'inline',
  logLevel: 'warning',
  // node-forge and @fastify/error (through @swarm/pki and @swarm/errors) are CommonJS and
  // call require('crypto') and the like; in ESM output esbuild's require shim throws
  // "Dynamic require is not supported" unless a real `require` is in scope.
  banner: {
    js: [
      '// The swarm reference agent, bundled by scripts/bundle-agent.mjs. Run: node agent.mjs --help',
      "import { createRequire as __swarmCreateRequire } from 'node:module';",
      'const require = __swarmCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
console.error(`bundle-agent: wrote ${outfile}`);
