import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fingerprint, identityOf, type Identity } from '@swarm/pki';
import { AgentError } from './agent-error.js';
import { AGENT_VERSION } from './version.js';

/** Default agent port (wiki/reference/guarantees.md#defaults-and-limits), used when SWARM_AGENT_PORT is unset. */
export const DEFAULT_AGENT_PORT = 8765;

/** What the agent runs with, read from the environment the updater gives a release (wiki/reference/layouts.md#release-tarball). */
export interface AgentConfig {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** The agent's own identity, from its certificate's URI SAN. */
  readonly identity: Identity;
  /** SHA-256 pin of the agent's certificate, for the logs (never the PEM). */
  readonly fingerprint: string;
  /** SWARM_HOST, else the host named by the certificate. */
  readonly host: string;
  readonly port: number;
  /** SWARM_RELEASE_VERSION, else the agent package's version. */
  readonly version: string;
  /** Set when the key file is readable by group or others (logged as a warning). */
  readonly keyModeWarning: string | null;
}

/**
 * Read and check the agent's environment, reporting every problem at once:
 * the three PEM files, a port, and a certificate that is this host's agent identity.
 * Relative paths resolve against the working directory (the release directory).
 */
export async function loadAgentConfig(env: NodeJS.ProcessEnv): Promise<AgentConfig> {
  const problems: string[] = [];
  const readPem = async (name: 'SWARM_CA' | 'SWARM_CERT' | 'SWARM_KEY'): Promise<string | null> => {
    const path = env[name];
    if (path === undefined || path === '') {
      problems.push(`${name} is not set (the path of the ${FILE_ROLES[name]})`);
      return null;
    }
    try {
      return await readFile(resolve(path), 'utf8');
    } catch (err) {
      problems.push(`${name}=${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return null;
    }
  };
  const [caPem, certPem, keyPem] = await Promise.all([readPem('SWARM_CA'), readPem('SWARM_CERT'), readPem('SWARM_KEY')]);

  const port = parsePort(env.SWARM_AGENT_PORT, problems);
  let identity: Identity | null = null;
  if (certPem !== null) {
    try {
      identity = identityOf(certPem);
      if (identity.role !== 'agent') {
        problems.push(
          `SWARM_CERT is the ${identity.role} certificate ${identity.uri}; the agent needs its host's agent certificate (agent.crt)`,
        );
      }
    } catch (err) {
      problems.push(`SWARM_CERT: ${(err as Error).message}`);
    }
  }
  const envHost = env.SWARM_HOST === '' ? undefined : env.SWARM_HOST;
  if (identity && envHost !== undefined && identity.host !== envHost) {
    problems.push(`SWARM_HOST is "${envHost}" but SWARM_CERT is the agent of "${identity.host}"`);
  }
  if (problems.length > 0 || caPem === null || certPem === null || keyPem === null || identity === null || port === null) {
    throw new AgentError('SWARM_ERR_CONFIG_INVALID', `the agent cannot start: ${problems.join('; ')}`, { problems });
  }
  return {
    caPem,
    certPem,
    keyPem,
    identity,
    fingerprint: fingerprint(certPem),
    host: envHost ?? identity.host ?? '',
    port,
    version: env.SWARM_RELEASE_VERSION || AGENT_VERSION,
    keyModeWarning: await keyModeWarning(env.SWARM_KEY!),
  };
}

const FILE_ROLES = {
  SWARM_CA: 'CA certificate (ca.crt)',
  SWARM_CERT: "agent's certificate (agent.crt)",
  SWARM_KEY: "agent's private key (agent.key)",
} as const;

function parsePort(value: string | undefined, problems: string[]): number | null {
  if (value === undefined || value === '') return DEFAULT_AGENT_PORT;
  // Port 0 (an ephemeral port) is accepted for tests; the listening line logs the real one.
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) {
    problems.push(`SWARM_AGENT_PORT must be a port number (0-65535), got "${value}"`);
    return null;
  }
  return n;
}

/** Private keys are 0600 (wiki/reference/updater-api.md#transport-and-identity); a wider key still works, but the operator should know. */
async function keyModeWarning(path: string): Promise<string | null> {
  try {
    const mode = (await stat(resolve(path))).mode & 0o777;
    return (mode & 0o077) !== 0 ? `${path} has mode 0${mode.toString(8)}; private keys should be 0600` : null;
  } catch {
    return null;
  }
}
