import { rm, stat } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import { assertHostName } from '@swarm/pki';
import type { HostRecord } from '@swarm/inventory';
import { defaultBundleDir } from '../home/home-paths.js';
import { withHome, type HomeRef } from '../home/with-home.js';

/** Options of {@link decommissionHost}. */
export interface DecommissionHostOptions {
  /** The master home: a path (opened and closed here) or an opened home. */
  readonly home: HomeRef;
  readonly name: string;
}

/** What {@link decommissionHost} removed. */
export interface DecommissionResult {
  /** The registry row as it was, pins included. */
  readonly host: HostRecord;
  /** The bundle directory under the home that was deleted, or null when there was none. */
  readonly bundleRemoved: string | null;
}

/**
 * Forget a host: delete its registry row and pins, so the master refuses to talk to it
 * from now on, then its bundle under `<home>/bundles/` if it was never handed over. Its
 * operation history is kept. Its certificates stay valid until they expire (no CRL yet):
 * see wiki/pki.md for what that means when a key has leaked.
 */
export async function decommissionHost(options: DecommissionHostOptions): Promise<DecommissionResult> {
  // Validated before anything else: the name becomes a path that is deleted below.
  assertHostName(options.name);
  return withHome(options.home, async (home) => {
    const host = home.registry.removeHost(options.name);
    if (!host) {
      throw swarmError('SWARM_ERR_HOST_UNKNOWN', `host "${options.name}" is not enrolled`, { host: options.name });
    }
    const bundle = defaultBundleDir(home.paths, options.name);
    const present = await stat(bundle).then(
      () => true,
      () => false,
    );
    if (present) await rm(bundle, { recursive: true, force: true });
    return { host, bundleRemoved: present ? bundle : null };
  });
}
