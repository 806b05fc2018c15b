import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Options of {@link resolveHome}. */
export interface ResolveHomeOptions {
  /** The `--home` flag, when given; wins over everything. */
  readonly home?: string | undefined;
  /** The environment to read `SWARM_HOME` and `HOME` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The master home: `--home`, else `SWARM_HOME`, else `~/.swarm` (wiki/reference/layouts.md), absolute. */
export function resolveHome(options: ResolveHomeOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.home) return resolve(options.home);
  if (env.SWARM_HOME) return resolve(env.SWARM_HOME);
  return join(env.HOME || homedir(), '.swarm');
}
