// Shared esbuild settings for the files swarm ships inside releases (the reference agent,
// the updater release): one ESM file per entry that runs with plain `node` >= 20 and no
// node_modules, because a worker has only Node (wiki/reference/guarantees.md#requirements-and-installation).
import { build } from 'esbuild';

/**
 * Bundle `entryPoints` for Node. CommonJS dependencies (node-forge, @fastify/error, …) call
 * `require('crypto')` and the like; in ESM output esbuild's require shim throws "Dynamic
 * require is not supported" unless a real `require` is in scope, hence the banner.
 */
export function bundleForNode({ title, ...options }) {
  return build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: false,
    sourcemap: false,
    legalComments: 'inline',
    logLevel: 'warning',
    banner: {
      js: [
        `// ${title}`,
        "import { createRequire as __swarmCreateRequire } from 'node:module';",
        'const require = __swarmCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    ...options,
  });
}
