import type { UpdaterClient } from '@swarm/updater-client';
import { isSwarmError } from '@swarm/errors';
import type { HostRecord } from '@swarm/inventory';
import type { PackedRelease } from './host-steps.js';
import { nextOpening, type MaintenanceWindow } from './maintenance-window.js';
import { rolloutRelease, targetOf, type RolloutPolicy, type RolloutRelease } from './rollout.js';

/** One host in a dry-run plan. */
export interface PlannedHost {
  readonly host: string;
  /** 1-based position in the rollout. */
  readonly order: number;
  readonly stage: 'canary' | 'rest';
  readonly reachable: boolean;
  /** Already on the release's digest (so `up_to_date` unless `--force`). */
  readonly upToDate: boolean;
  readonly active: { readonly id: string; readonly version: string; readonly sha256: string } | null;
  readonly updaterVersion: string | null;
  /** The release the host holds staged, if any. */
  readonly staged: { readonly id: string; readonly version: string; readonly sha256: string } | null;
  /**
   * What will happen: `update`, `activate (staged)` (no transfer), `stage`, `skip (up to
   * date)`, `skip (already staged)`, or why it cannot be reached.
   */
  readonly action: string;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** What `swarm update --dry-run` prints. */
export interface RolloutPlan {
  /** `size` is null for `swarm activate`, which sends no bytes. */
  readonly release: (RolloutRelease & { readonly size: number | null }) | null;
  readonly self: { readonly version: string; readonly sha256: string } | null;
  readonly policy: RolloutPolicy;
  /** With `--window`: open now, or when the next window opens (ISO 8601); null without. */
  readonly window: { readonly open: boolean; readonly nextOpening: string | null } | null;
  readonly hosts: PlannedHost[];
}

/**
 * The plan of an update without changing anything: each host's `/health` (read-only, in
 * parallel), the order, the canary stage, and who is already up to date.
 */
export async function planRollout(options: {
  readonly hosts: readonly HostRecord[];
  readonly client: UpdaterClient;
  readonly release: (Pick<PackedRelease, 'name' | 'version' | 'sha256'> & { readonly size?: number }) | null;
  readonly self: PackedRelease | null;
  readonly force: boolean;
  readonly stageOnly?: boolean;
  /** `swarm activate`: hosts must hold the release staged. */
  readonly activate?: boolean;
  readonly windows?: readonly MaintenanceWindow[];
  readonly policy: RolloutPolicy;
}): Promise<RolloutPlan> {
  const { release, self } = options;
  const hosts = await Promise.all(
    options.hosts.map(async (host, i): Promise<PlannedHost> => {
      const stage = i < options.policy.canary ? 'canary' : 'rest';
      try {
        const health = await options.client.health(targetOf(host));
        const upToDate =
          (!release || health.active?.sha256 === release.sha256) && (!self || health.version === self.version);
        return {
          host: host.name,
          order: i + 1,
          stage,
          reachable: true,
          upToDate,
          active: health.active
            ? { id: health.active.id, version: health.active.version, sha256: health.active.sha256 }
            : null,
          updaterVersion: health.version,
          staged: health.staged
            ? { id: health.staged.id, version: health.staged.version, sha256: health.staged.sha256 }
            : null,
          action: plannedAction(options, upToDate, release !== null && health.staged?.sha256 === release.sha256),
          error: null,
        };
      } catch (err) {
        const error = isSwarmError(err)
          ? { code: err.code, message: err.message }
          : { code: 'SWARM_ERR_CLIENT_UNREACHABLE', message: String(err) };
        return {
          host: host.name,
          order: i + 1,
          stage,
          reachable: false,
          upToDate: false,
          active: null,
          updaterVersion: null,
          staged: null,
          action: 'fail (unreachable)',
          error,
        };
      }
    }),
  );
  return {
    release: release ? { ...rolloutRelease(release), size: release.size ?? null } : null,
    self: self ? { version: self.version, sha256: self.sha256 } : null,
    policy: options.policy,
    window: windowPlan(options.windows ?? []),
    hosts,
  };
}

function plannedAction(
  options: { force: boolean; stageOnly?: boolean; activate?: boolean },
  upToDate: boolean,
  staged: boolean,
): string {
  if (upToDate && !options.force) return 'skip (up to date)';
  if (options.activate) return staged ? 'activate' : 'fail (not staged)';
  if (options.stageOnly) return staged && !options.force ? 'skip (already staged)' : 'stage';
  return staged && !options.force ? 'activate (staged)' : 'update';
}

function windowPlan(windows: readonly MaintenanceWindow[]): RolloutPlan['window'] {
  if (windows.length === 0) return null;
  const now = new Date();
  const next = nextOpening(windows, now);
  return { open: next === now, nextOpening: next === now ? now.toISOString() : (next?.toISOString() ?? null) };
}
