import { swarmError } from '@swarm/errors';
import { CONFIG_FILE_OPTION, updaterConfigKeys } from '../config/config-keys.js';

/**
 * Parse `--flag value` pairs named as in {@link updaterConfigKeys} (plus `--config FILE`)
 * into the `flags` of `parseUpdaterConfig`. This is how a supervisor hands its settings to
 * each updater it starts: the same flags as `swarm updater`, so there is one vocabulary.
 * Unknown flags are returned in `ignored`, not refused (see below).
 */
export function parseUpdaterArgv(argv: readonly string[]): { flags: Record<string, string>; ignored: string[] } {
  const byFlag = new Map(updaterConfigKeys.map((k) => [k.flag, k.key]));
  const flags: Record<string, string> = {};
  const ignored: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const eq = token.indexOf('=');
    const flag = eq > 0 ? token.slice(0, eq) : token;
    const key = flag === CONFIG_FILE_OPTION.flag ? 'config' : byFlag.get(flag);
    const value = eq > 0 ? token.slice(eq + 1) : argv[i + 1]?.startsWith('--') ? undefined : argv[++i];
    // A flag this updater does not know comes from a newer supervisor: ignore it (and say
    // so) rather than refuse to start — an updater that cannot start strands the host.
    if (!key) ignored.push(flag);
    else if (value === undefined) problems.push(`${flag} needs a value`);
    else flags[key] = value;
  }
  if (problems.length > 0) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `invalid updater arguments: ${problems.join('; ')}`, { problems });
  }
  return { flags, ignored };
}

/** The inverse: flags for the updater process, from the settings given explicitly. */
export function updaterArgv(flags: Readonly<Record<string, string | number | null | undefined>>): string[] {
  const argv: string[] = [];
  for (const k of updaterConfigKeys) {
    const value = flags[k.key];
    if (value !== undefined && value !== null) argv.push(k.flag, String(value));
  }
  if (flags.config !== undefined && flags.config !== null) argv.push(CONFIG_FILE_OPTION.flag, String(flags.config));
  return argv;
}
