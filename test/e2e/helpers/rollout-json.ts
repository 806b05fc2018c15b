import type { Release } from '@swarm/protocol';

/** `swarm update --json` / `swarm rollback --json` (wiki/reference/cli.md): `release.installedAt` is null. */
export interface RolloutJson {
  readonly release: Release | null;
  readonly results: readonly HostResultJson[];
}

export interface HostResultJson {
  readonly host: string;
  readonly outcome: 'updated' | 'up_to_date' | 'rolled_back' | 'failed' | 'skipped' | 'staged';
  readonly release: Release | null;
  readonly durationMs: number;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** `swarm status --json` (wiki/reference/cli.md). */
export interface StatusJson {
  readonly host: string;
  readonly reachable: boolean;
  readonly version: string | null;
  readonly busy: boolean | null;
  readonly active: Release | null;
  readonly prev: Release | null;
  readonly staged: Release | null;
  readonly agent: { readonly running: boolean; readonly healthy: boolean } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** `swarm pack --json` (wiki/reference/cli.md). */
export interface PackJson {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly file: string;
}

/** One entry of `swarm history --json`. */
export interface OperationJson {
  readonly id: number;
  readonly kind: string;
  readonly status: string;
  readonly release: { readonly name: string; readonly version: string; readonly sha256: string } | null;
  readonly finishedAt: string | null;
  readonly hosts: readonly {
    readonly host: string;
    readonly outcome: string;
    readonly error: { code: string } | null;
  }[];
}

/** host → outcome, the compact view most assertions compare. */
export function outcomes(result: RolloutJson): Record<string, string> {
  return Object.fromEntries(result.results.map((r) => [r.host, r.outcome]));
}

/** `<version>-<sha256[0:12]>`: a release's id on a worker (wiki/reference/layouts.md). */
export function releaseIdOf(release: { version: string; sha256: string }): string {
  return `${release.version}-${release.sha256.slice(0, 12)}`;
}
