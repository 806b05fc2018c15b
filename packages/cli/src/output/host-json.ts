import type { HostRecord } from '@swarm/registry';

/** A host as `swarm hosts --json` shows it (SPEC.md §7), with exactly these keys. */
export interface HostJson {
  readonly name: string;
  readonly address: string;
  readonly updaterPort: number;
  readonly agentPort: number;
  readonly updaterFingerprint: string | null;
  readonly agentFingerprint: string;
  readonly enrolledAt: string;
}

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
