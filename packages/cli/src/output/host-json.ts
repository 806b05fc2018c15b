import type { HostRecord } from '@swarm/inventory';

/**
 * A host as `swarm hosts --json` shows it (wiki/reference/cli.md), with exactly these keys: the type is
 * the registry's record narrowed to them, and {@link hostJson} copies only them, so a field
 * added to the registry never leaks into the wire shape.
 */
export type HostJson = Pick<
  HostRecord,
  'name' | 'address' | 'updaterPort' | 'agentPort' | 'updaterFingerprint' | 'agentFingerprint' | 'enrolledAt'
>;

export function hostJson(host: HostRecord): HostJson {
  return {
    name: host.name,
    address: host.address,
    updaterPort: host.updaterPort,
    agentPort: host.agentPort,
    updaterFingerprint: host.updaterFingerprint,
    agentFingerprint: host.agentFingerprint,
    enrolledAt: host.enrolledAt,
  };
}
