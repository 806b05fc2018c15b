import { join, resolve } from 'node:path';
import { assertHostName } from '@swarm/pki';

/** Where everything lives in a master home (wiki/reference/layouts.md). */
export interface HomePaths {
  /** The home directory itself, absolute. */
  readonly home: string;
  /** `home.json`: trust domain and creation time. */
  readonly manifest: string;
  readonly caDir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly masterDir: string;
  readonly masterCert: string;
  readonly masterKey: string;
  readonly registry: string;
  /** Worker bundles waiting to be handed over, one directory per host. */
  readonly bundles: string;
}

/** The paths of the master home at `home`. */
export function homePaths(home: string): HomePaths {
  const root = resolve(home);
  return {
    home: root,
    manifest: join(root, 'home.json'),
    caDir: join(root, 'ca'),
    caCert: join(root, 'ca', 'ca.crt'),
    caKey: join(root, 'ca', 'ca.key'),
    masterDir: join(root, 'master'),
    masterCert: join(root, 'master', 'master.crt'),
    masterKey: join(root, 'master', 'master.key'),
    registry: join(root, 'registry.db'),
    bundles: join(root, 'bundles'),
  };
}

/**
 * The default bundle directory of a host, `<home>/bundles/<host>`. The name is validated
 * first: it becomes a path segment, and decommission deletes this directory.
 */
export function defaultBundleDir(paths: HomePaths, host: string): string {
  assertHostName(host);
  return join(paths.bundles, host);
}
