import { readFileSync } from 'node:fs';

/**
 * The master's own version: the `version` of @swarm/cli's package.json, which the root
 * package and every workspace package share. Read at run time, from `src/` and `dist/`
 * alike (both sit next to package.json's directory).
 */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
