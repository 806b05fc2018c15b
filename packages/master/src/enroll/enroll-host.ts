import { constants, type Stats } from 'node:fs';
import { access, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { swarmError } from '@swarm/errors';
import { BUNDLE_FILES, assertHostName, fingerprint, issueCertificate, writeWorkerBundle } from '@swarm/pki';
import type { HostRecord } from '@swarm/inventory';
import { defaultBundleDir } from '../home/home-paths.js';
import { withHome, type HomeRef } from '../home/with-home.js';
import { assertHostAddress, assertPort } from './host-address.js';

/** Default port of the agent on a worker (wiki/reference/guarantees.md#defaults-and-limits). */
export const DEFAULT_AGENT_PORT = 8765;
/** Default port of the updater on a worker (wiki/reference/guarantees.md#defaults-and-limits). */
export const DEFAULT_UPDATER_PORT = 8766;

/** Options of {@link enrollHost}. */
export interface EnrollHostOptions {
  /** The master home: a path (opened and closed here) or an opened home. */
  readonly home: HomeRef;
  /** Host name (wiki/reference/updater-api.md#transport-and-identity pattern; `master` is reserved). */
  readonly name: string;
  /** DNS name or IP address the master will dial; becomes a SAN of the host's certificates. */
  readonly address: string;
  /**
   * Also issue the updater certificate and record its pin. Without it the host has no
   * updater pin, and the master refuses to push to it (fail closed).
   */
  readonly updater?: boolean;
  /** Where to write the worker bundle (default `<home>/bundles/<name>`); must not hold files. */
  readonly out?: string;
  /** Default {@link DEFAULT_AGENT_PORT}. */
  readonly agentPort?: number;
  /** Default {@link DEFAULT_UPDATER_PORT}. */
  readonly updaterPort?: number;
}

/** What {@link enrollHost} recorded and wrote. */
export interface EnrollResult {
  /** The registry row, with both pins. */
  readonly host: HostRecord;
  readonly trustDomain: string;
  /** The bundle directory, absolute: copy it to the worker. */
  readonly bundleDir: string;
  /** File names in the bundle. */
  readonly files: readonly string[];
}

/**
 * Enroll a host: issue its agent certificate (and, with `updater`, its updater
 * certificate), write the worker bundle, record the host and its pins.
 *
 * Order matters for failure: every check runs before any key is made; the bundle is
 * written whole or not at all (writeWorkerBundle); the registry row comes last, and if it
 * cannot be written the bundle is deleted again. So a failure at any point leaves the
 * registry unchanged and no bundle. The private keys exist only in the bundle: when `out`
 * is outside the home, the home keeps none of them.
 */
export async function enrollHost(options: EnrollHostOptions): Promise<EnrollResult> {
  const agentPort = options.agentPort ?? DEFAULT_AGENT_PORT;
  const updaterPort = options.updaterPort ?? DEFAULT_UPDATER_PORT;
  const withUpdater = options.updater ?? false;
  assertHostName(options.name);
  assertHostAddress(options.address);
  assertPort(agentPort, '--agent-port');
  assertPort(updaterPort, '--updater-port');
  if (withUpdater && agentPort === updaterPort) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `--agent-port and --updater-port are both ${agentPort}; they must differ`,
    );
  }

  return withHome(options.home, async (home) => {
    const { name, address } = options;
    if (home.registry.getHost(name)) {
      throw swarmError('SWARM_ERR_HOST_EXISTS', `host "${name}" is already enrolled`, { host: name });
    }
    const bundleDir = resolve(options.out ?? defaultBundleDir(home.paths, name));
    const outExisted = await checkOut(bundleDir);

    const issue = (role: 'agent' | 'updater') =>
      issueCertificate({ ca: home.ca, trustDomain: home.trustDomain, role, host: name, addresses: [address] });
    const agent = await issue('agent');
    const updater = withUpdater ? await issue('updater') : null;

    await writeWorkerBundle(bundleDir, {
      host: { name, trustDomain: home.trustDomain, address, agentPort, updaterPort },
      caPem: home.ca.certPem,
      agent,
      updater,
    });

    let host: HostRecord;
    try {
      host = home.registry.addHost({
        name,
        address,
        agentPort,
        updaterPort,
        agentFingerprint: fingerprint(agent.certPem),
        updaterFingerprint: updater ? fingerprint(updater.certPem) : null,
      });
    } catch (err) {
      // Nothing recorded, so nothing handed out: take the bundle (and its keys) back.
      await rm(bundleDir, { recursive: true, force: true });
      if (outExisted) await mkdir(bundleDir).catch(() => undefined);
      throw err;
    }
    const files: string[] = [BUNDLE_FILES.ca, BUNDLE_FILES.host, BUNDLE_FILES.agentCert, BUNDLE_FILES.agentKey];
    if (updater) files.push(BUNDLE_FILES.updaterCert, BUNDLE_FILES.updaterKey);
    return { host, trustDomain: home.trustDomain, bundleDir, files };
  });
}

/**
 * Fail before any key is generated when the bundle cannot be written: `out` holds files,
 * or the directory it would be created in is not a writable directory. Returns whether
 * `out` already exists (as an empty directory).
 */
async function checkOut(out: string): Promise<boolean> {
  const unwritable = (why: string, cause?: unknown) =>
    swarmError(
      'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
      `cannot write the bundle to ${out}: ${why}`,
      { out },
      cause ? { cause } : {},
    );
  const statOrNull = async (path: string): Promise<Stats | null> => {
    try {
      return await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unwritable((err as Error).message, err);
    }
  };
  const writable = async (dir: string): Promise<void> => {
    await access(dir, constants.W_OK | constants.X_OK).catch((err: unknown) => {
      throw unwritable(`${dir} is not writable`, err);
    });
  };

  const existing = await statOrNull(out);
  if (existing) {
    if (!existing.isDirectory()) throw unwritable('it exists and is not a directory');
    if ((await readdir(out)).length > 0) throw unwritable('it already exists and is not empty');
    await writable(dirname(out));
    return true;
  }
  // The bundle and any missing parents are created under the nearest existing ancestor.
  let dir = dirname(out);
  let found = await statOrNull(dir);
  while (!found && dirname(dir) !== dir) {
    dir = dirname(dir);
    found = await statOrNull(dir);
  }
  if (!found?.isDirectory()) throw unwritable(`${dir} is not a directory`);
  await writable(dir);
  return false;
}
