import { Option, type Command } from 'commander';
import { swarmError } from '@swarm/errors';
import type { HostRecord, Registry } from '@swarm/inventory';
import { DEFAULT_POLICY } from '@swarm/master';

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

/** `--concurrency`, `--canary`, `--max-failures` with the engine's defaults, shared by update and activate. */
export function addPolicyOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--concurrency <n>', 'hosts in flight at once after the canaries')
        .argParser(parseCount('--concurrency', 1))
        .default(DEFAULT_POLICY.concurrency),
    )
    .addOption(
      new Option('--canary <n>', 'hosts that go first, alone')
        .argParser(parseCount('--canary', 0))
        .default(DEFAULT_POLICY.canary),
    )
    .addOption(
      new Option('--max-failures <n>', 'stop starting hosts once more than N failed (whole rollout)')
        .argParser(parseCount('--max-failures', 0))
        .default(DEFAULT_POLICY.maxFailures),
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
