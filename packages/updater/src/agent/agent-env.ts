import { join } from 'node:path';
import { SELF_UPDATE_RECORD_ENV } from '@swarm/protocol';
import { BUNDLE_FILES } from '@swarm/pki';
import { updaterConfigKeys } from '../config/config-keys.js';
import { CONFIG_FILE_OPTION } from '../config/config-keys.js';
import { FAULT_ENV } from '../operations/fault-point.js';

/** What the release's processes are told (wiki/reference/layouts.md#release-tarball). */
export interface AgentEnvInput {
  /** This host's name (host.json). */
  readonly host: string;
  /** The release directory the process runs in. */
  readonly releaseDir: string;
  readonly version: string;
  /** The worker bundle directory (absolute): the agent's certificate files live there. */
  readonly bundleDir: string;
  readonly agentPort: number;
  /** The environment to extend (default: this process's). */
  readonly base?: NodeJS.ProcessEnv;
}

// The updater's own settings are not the agent's business: an agent that reads SWARM_BUNDLE
// or SWARM_INSTALL_DIR (or a test's kill switch) by accident would be a hidden coupling.
const UPDATER_ONLY = new Set([
  ...updaterConfigKeys.map((k) => k.env),
  CONFIG_FILE_OPTION.env,
  FAULT_ENV,
  SELF_UPDATE_RECORD_ENV,
]);

/**
 * The environment of `start`, `install` and `exec` health checks: the updater's environment
 * minus its own settings, plus SWARM_HOST, SWARM_RELEASE_DIR, SWARM_RELEASE_VERSION,
 * SWARM_CA, SWARM_CERT, SWARM_KEY (absolute paths of the bundle's agent files) and
 * SWARM_AGENT_PORT.
 */
export function agentEnv(input: AgentEnvInput): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(input.base ?? process.env)) {
    if (!UPDATER_ONLY.has(name)) env[name] = value;
  }
  return {
    ...env,
    SWARM_HOST: input.host,
    SWARM_RELEASE_DIR: input.releaseDir,
    SWARM_RELEASE_VERSION: input.version,
    SWARM_CA: join(input.bundleDir, BUNDLE_FILES.ca),
    SWARM_CERT: join(input.bundleDir, BUNDLE_FILES.agentCert),
    SWARM_KEY: join(input.bundleDir, BUNDLE_FILES.agentKey),
    SWARM_AGENT_PORT: String(input.agentPort),
  };
}
