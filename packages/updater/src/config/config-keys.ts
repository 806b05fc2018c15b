import { DEFAULT_EXTRACT_LIMITS } from '@swarm/bundle';

/**
 * Every setting of `swarm updater`, declared once: type, default, environment variable,
 * flag, description and bounds. The parser, the CLI's flags and `--help`, and the table in
 * wiki/remote-updates.md all come from (or are checked against) this declaration.
 */

/** How a value is written and checked. */
export type ConfigValueType = 'path' | 'integer' | 'listen' | 'duration' | 'hosts';

/** A `host:port` listen address (`[v6]:port` for IPv6). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The updater's configuration, after defaults, file, environment and flags are merged. */
export interface UpdaterConfig {
  /** Worker bundle directory written by `swarm enroll --updater` (ca.crt, updater.crt/key, host.json). */
  readonly bundle: string;
  /** The install directory the updater owns (current, releases/, state.json, logs/). */
  readonly installDir: string;
  /** The updater's own release directory (self-update); null when not running from one. */
  readonly selfDir: string | null;
  /** Where to listen; null means `0.0.0.0:<host.json updaterPort>`. */
  readonly listen: ListenAddress | null;
  /** The agent's port (`SWARM_AGENT_PORT`); null means host.json's `agentPort`. */
  readonly agentPort: number | null;
  /** Upload cap for one release tarball, in bytes. */
  readonly maxUploadBytes: number;
  /** Releases retained on disk, active and prev included (at least 2). */
  readonly keep: number;
  /** Probe deadline when release.json gives none. */
  readonly probeDeadlineMs: number;
  /** Continuous health required when release.json gives none. */
  readonly healthyForMs: number;
  /** Pause between two health checks of a probe. */
  readonly probeIntervalMs: number;
  /** Grace between SIGTERM and SIGKILL when release.json gives no stopTimeoutMs. */
  readonly stopTimeoutMs: number;
  /** Deadline of a release's `install` command. */
  readonly installTimeoutMs: number;
  /** Deadline for receiving one upload. */
  readonly receiveTimeoutMs: number;
  /** An upload that sends nothing for this long is cut (slow-loris guard). */
  readonly receiveIdleTimeoutMs: number;
  /** Deadline for extracting one release. */
  readonly extractTimeoutMs: number;
  /** Extraction caps (see @swarm/bundle ExtractLimits). */
  readonly extractMaxEntries: number;
  readonly extractMaxTotalBytes: number;
  readonly extractMaxEntryBytes: number;
  readonly extractMaxDepth: number;
  readonly extractMaxPathBytes: number;
  readonly extractMaxInflationRatio: number;
  readonly extractInflationFloorBytes: number;
  /** logs/agent.log is rotated to agent.log.1 once larger than this. */
  readonly agentLogMaxBytes: number;
  /** First delay before restarting a crashed agent; doubles on each crash. */
  readonly restartBackoffMs: number;
  /** Longest delay between two restarts of a crashed agent. */
  readonly restartBackoffMaxMs: number;
  readonly selfUpdateDeadlineMs: number;
  /** Period of the agent health check outside operations (0: only check at updates). */
  readonly healthCheckIntervalMs: number;
  /** Operations kept in the journal's history. */
  readonly historyLimit: number;
  /** Registry logins: a Docker `config.json` (`POST /pull`); null: anonymous pulls only. */
  readonly registryAuth: string | null;
  /** CA certificates (PEM) trusted for registries besides the system's. */
  readonly registryCa: string | null;
  /** Registries (`HOST[:PORT]`) spoken to over plain HTTP; none unless named. */
  readonly registryPlainHttp: readonly string[] | null;
  /** Deadline of one registry call with its retries, in ms (written as a duration: `15m`). */
  readonly registryTimeout: number;
}

/** The declaration of one key. */
export interface ConfigKey {
  /** Name in the config file and in `flags` (camelCase). */
  readonly key: keyof UpdaterConfig;
  readonly type: ConfigValueType;
  /** Default value; null when there is none or it is derived at start (see `defaultText`). */
  readonly default: number | string | null;
  /**
   * How the default reads in `--help` and wiki/remote-updates.md: the value, `(required)`,
   * `(none)`, or how it is derived at start.
   */
  readonly defaultText: string;
  /** True when the updater cannot start without it. */
  readonly required?: boolean;
  /** Environment variable: `SWARM_<UPPER_SNAKE>`. */
  readonly env: string;
  /** Command-line flag: `--kebab-case`. */
  readonly flag: string;
  readonly description: string;
  /** Bounds of an integer. */
  readonly min?: number;
  readonly max?: number;
}

/** A declaration as written below: `defaultText` only where the default is derived. */
type KeySpec = Omit<ConfigKey, 'key' | 'env' | 'flag' | 'defaultText'> & { readonly defaultText?: string };

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

const specs = {
  bundle: {
    type: 'path',
    default: null,
    required: true,
    description: 'worker bundle directory from `swarm enroll --updater`',
  },
  installDir: {
    type: 'path',
    default: null,
    required: true,
    description: 'install directory owned by this updater (current, releases/, state.json, logs/)',
  },
  selfDir: { type: 'path', default: null, description: "the updater's own release directory, for self-update" },
  listen: {
    type: 'listen',
    default: null,
    defaultText: '0.0.0.0:<updaterPort of host.json>',
    description: 'address and port to listen on (HOST:PORT)',
  },
  agentPort: {
    type: 'integer',
    default: null,
    defaultText: '<agentPort of host.json>',
    min: 1,
    max: 65535,
    description: "the agent's port, given to it as SWARM_AGENT_PORT",
  },
  maxUploadBytes: { type: 'integer', default: GIB, min: 1, description: 'largest release tarball accepted, in bytes' },
  keep: {
    type: 'integer',
    default: 2,
    min: 2,
    max: 1000,
    description: 'releases kept on disk, active and prev included',
  },
  probeDeadlineMs: {
    type: 'integer',
    default: 30_000,
    min: 1,
    description: 'health probe deadline when release.json gives none',
  },
  healthyForMs: {
    type: 'integer',
    default: 3_000,
    min: 0,
    description: 'continuous health a probe requires when release.json gives none',
  },
  probeIntervalMs: {
    type: 'integer',
    default: 100,
    min: 10,
    max: 60_000,
    description: 'pause between two checks of a health probe',
  },
  stopTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    description: 'grace between SIGTERM and SIGKILL when release.json gives no stopTimeoutMs',
  },
  installTimeoutMs: {
    type: 'integer',
    default: 600_000,
    min: 1,
    description: "deadline of a release's install command",
  },
  receiveTimeoutMs: { type: 'integer', default: 1_800_000, min: 1, description: 'deadline for receiving one upload' },
  receiveIdleTimeoutMs: {
    type: 'integer',
    default: 60_000,
    min: 1,
    description: 'an upload that sends nothing for this long is cut',
  },
  extractTimeoutMs: { type: 'integer', default: 600_000, min: 1, description: 'deadline for extracting one release' },
  extractMaxEntries: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxEntries,
    min: 1,
    description: 'most entries a release archive may hold',
  },
  extractMaxTotalBytes: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxTotalBytes,
    min: 1,
    description: 'most bytes a release may extract to',
  },
  extractMaxEntryBytes: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxEntryBytes,
    min: 1,
    description: 'largest single file in a release',
  },
  extractMaxDepth: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxDepth,
    min: 1,
    description: 'deepest path in a release (directory levels)',
  },
  extractMaxPathBytes: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxPathBytes,
    min: 1,
    description: 'longest path in a release, in bytes',
  },
  extractMaxInflationRatio: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.maxInflationRatio,
    min: 1,
    description: 'most bytes a release may inflate to per compressed byte read (gzip bomb guard)',
  },
  extractInflationFloorBytes: {
    type: 'integer',
    default: DEFAULT_EXTRACT_LIMITS.inflationFloorBytes,
    min: 1,
    description: 'inflated bytes below which the inflation ratio is not checked',
  },
  agentLogMaxBytes: {
    type: 'integer',
    default: 10 * MIB,
    min: 1024,
    description: 'logs/agent.log is rotated to agent.log.1 beyond this size',
  },
  restartBackoffMs: {
    type: 'integer',
    default: 1_000,
    min: 1,
    description: 'first delay before restarting a crashed agent (doubles per crash)',
  },
  restartBackoffMaxMs: {
    type: 'integer',
    default: 60_000,
    min: 1,
    description: 'longest delay between restarts of a crashed agent',
  },
  selfUpdateDeadlineMs: {
    type: 'integer',
    default: 30_000,
    min: 1_000,
    description: 'how long a new updater has to answer /health with its version before the supervisor falls back',
  },
  healthCheckIntervalMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    description: 'period of agent health checks outside updates (0: never)',
  },
  historyLimit: {
    type: 'integer',
    default: 50,
    min: 1,
    max: 10_000,
    description: 'operations kept in the history of state.json',
  },
  registryAuth: {
    type: 'path',
    default: null,
    description: 'Docker config.json with registry logins (auths.<host>.auth) for POST /pull',
  },
  registryCa: { type: 'path', default: null, description: 'PEM CA certificates trusted for registries besides the system CAs' },
  registryPlainHttp: {
    type: 'hosts',
    default: null,
    defaultText: '(none)',
    description: 'registries (HOST[:PORT], comma-separated) spoken to over plain HTTP; never implied',
  },
  registryTimeout: {
    type: 'duration',
    default: 15 * 60_000,
    defaultText: '15m',
    min: 1_000,
    description: 'deadline of one registry call, retries with back-off included (500ms, 30s, 15m, 1h, 1d)',
  },
} as const satisfies Record<keyof UpdaterConfig, KeySpec>;

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Every key, in declaration order, with its flag and environment variable. */
export const updaterConfigKeys: readonly ConfigKey[] = (Object.keys(specs) as (keyof UpdaterConfig)[]).map((key) => {
  const flag = kebab(key);
  const spec = specs[key] as KeySpec;
  return {
    key,
    ...spec,
    defaultText:
      spec.defaultText ?? (spec.default === null ? (spec.required ? '(required)' : '(none)') : String(spec.default)),
    flag: `--${flag}`,
    env: `SWARM_${flag.replaceAll('-', '_').toUpperCase()}`,
  };
});

/** The config-file option, which is not itself a setting. */
export const CONFIG_FILE_OPTION = {
  flag: '--config',
  env: 'SWARM_CONFIG',
  description: 'JSON file of settings (camelCase keys); flags and environment override it',
} as const;
