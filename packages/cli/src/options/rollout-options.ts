import { Option, type Command } from 'commander';
import { swarmError } from '@swarm/errors';
import type { HostRecord, Registry } from '@swarm/inventory';

/** Parse a non-negative integer flag value (commander argParser). */
export function parseCount(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw swarmError('SWARM_ERR_USAGE_INVALID', `${name} must be an integer >= ${min}, not "${value}"`);
    }
    return n;
  };
}

/** `--all | --host NAME…`, shared by update and rollback. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--all', 'every enrolled host, in name order', false)
    .addOption(
      new Option('--host <name>', 'a host to target (repeat for several; kept in the order given)').argParser(
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    );
}

/** The hosts `--all` / `--host` designate, or a usage error (exit 2). */
export function selectTargets(registry: Registry, opts: { all: boolean; host?: string[] }): HostRecord[] {
  const names = opts.host ?? [];
  if (opts.all === names.length > 0) {
    throw swarmError('SWARM_ERR_USAGE_INVALID', 'give either --all or at least one --host NAME');
  }
  if (opts.all) {
    const hosts = registry.listHosts();
    if (hosts.length === 0) throw swarmError('SWARM_ERR_HOST_UNKNOWN', 'no hosts are enrolled');
    return hosts;
  }
  const seen = new Set<string>();
  return names
    .filter((n) => !seen.has(n) && seen.add(n))
    .map((name) => {
      const host = registry.getHost(name);
      if (!host) throw swarmError('SWARM_ERR_HOST_UNKNOWN', `no host named "${name}" is enrolled`);
      return host;
    });
}
