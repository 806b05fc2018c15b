import { parseArgs } from 'node:util';
import { AgentError } from './agent-error.js';

/** Default address the agent listens on: every interface, as the master's probes come from afar. */
export const DEFAULT_LISTEN_HOST = '0.0.0.0';
/** Default bound on a graceful stop; kept under the example release's stopTimeoutMs (5 s). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 3000;

/** The knobs that change what the agent's server answers. */
export interface AgentFlags {
  /** Answer `/health` with 503 `{ status: 'unhealthy' }` (a broken release for the demo). */
  readonly unhealthy?: boolean;
  /** Report this version instead of the release's (a release that lies about itself). */
  readonly reportVersion?: string;
}

/** What `runAgent` understood from its command line. */
export interface AgentArgs {
  readonly help: boolean;
  /** Host (address) to listen on; the port comes from `SWARM_AGENT_PORT`. */
  readonly listen: string;
  readonly shutdownTimeoutMs: number;
  readonly flags: AgentFlags;
  /** Test knob: exit 1 at once, before listening. */
  readonly failStart: boolean;
  /** Test knob: exit 1 this many ms after listening (a crash after a healthy start). */
  readonly exitAfterMs: number | undefined;
}

/** The agent's `--help`: its own flags, then the test knobs. */
export const AGENT_USAGE = `Usage: agent [options]    (also: swarm agent [options])

The swarm reference agent: an HTTPS service with mutual TLS that the updater deploys.
It reads SWARM_CA, SWARM_CERT, SWARM_KEY, SWARM_AGENT_PORT (default 8765), SWARM_HOST
and SWARM_RELEASE_VERSION from the environment, as the updater sets them.

Options:
  --listen HOST                address to listen on (default ${DEFAULT_LISTEN_HOST}); the port is SWARM_AGENT_PORT
  --shutdown-timeout-ms N      on SIGTERM/SIGINT, wait at most N ms for requests in flight (default ${DEFAULT_SHUTDOWN_TIMEOUT_MS})
  -h, --help                   show this help

Test and demo knobs (never in a production release):
  --unhealthy                  /health answers 503 {"status":"unhealthy"}
  --exit-after-ms N            exit 1 N ms after listening
  --fail-start                 exit 1 at once, with a message on stderr
  --report-version V           report version V instead of the release's

Examples:
  SWARM_CA=ca.crt SWARM_CERT=agent.crt SWARM_KEY=agent.key node agent.mjs
  node agent.mjs --listen 127.0.0.1 --unhealthy
`;

/** Parse the agent's command line; unknown flags and malformed numbers are usage errors. */
export function parseAgentArgs(argv: readonly string[]): AgentArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        listen: { type: 'string' },
        'shutdown-timeout-ms': { type: 'string' },
        unhealthy: { type: 'boolean' },
        'exit-after-ms': { type: 'string' },
        'fail-start': { type: 'boolean' },
        'report-version': { type: 'string' },
      },
    }));
  } catch (cause) {
    throw new AgentError('SWARM_ERR_USAGE_INVALID', `${(cause as Error).message} (see --help)`, { cause });
  }
  const reportVersion = values['report-version'];
  if (reportVersion !== undefined && reportVersion.trim() === '') {
    throw new AgentError('SWARM_ERR_USAGE_INVALID', '--report-version needs a non-empty version');
  }
  const exitAfter = values['exit-after-ms'];
  const shutdownTimeout = values['shutdown-timeout-ms'];
  return {
    help: values.help ?? false,
    listen: parseListenHost(values.listen ?? DEFAULT_LISTEN_HOST),
    shutdownTimeoutMs: shutdownTimeout === undefined ? DEFAULT_SHUTDOWN_TIMEOUT_MS : parseMs('--shutdown-timeout-ms', shutdownTimeout),
    flags: { unhealthy: values.unhealthy ?? false, ...(reportVersion !== undefined ? { reportVersion } : {}) },
    failStart: values['fail-start'] ?? false,
    exitAfterMs: exitAfter === undefined ? undefined : parseMs('--exit-after-ms', exitAfter),
  };
}

// setTimeout fires at once for delays above 2^31-1 ms, so larger values are refused.
const MAX_TIMER_MS = 2 ** 31 - 1;

function parseMs(flag: string, value: string): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_TIMER_MS) {
    throw new AgentError('SWARM_ERR_USAGE_INVALID', `${flag} must be a whole number of milliseconds, got "${value}"`);
  }
  return n;
}

/**
 * `--listen` names a host only: the port is the host's agent port, which the updater passes
 * in SWARM_AGENT_PORT and substitutes into the release's health URL, so the two never
 * disagree. `HOST:PORT` is refused with that explanation rather than failing to resolve.
 */
export function parseListenHost(value: string): string {
  const host = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (host === '' || /\s/.test(host)) throw new AgentError('SWARM_ERR_USAGE_INVALID', `--listen needs a host, got "${value}"`);
  if (/^[^:]*:\d+$/.test(host) || /^\[.*\]:\d+$/.test(value)) {
    throw new AgentError(
      'SWARM_ERR_USAGE_INVALID',
      `--listen takes a host only, got "${value}": the port is SWARM_AGENT_PORT (the host's agent port)`,
    );
  }
  return host;
}
