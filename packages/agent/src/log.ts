/** Log levels, numbered like pino's so the agent's lines read like the rest of swarm's. */
export const LOG_LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** Where log lines go: anything with `write(string)`; stderr by default (stdout is for data). */
export interface LogSink {
  write(line: string): unknown;
}

/** One JSON line per event. Fields must never carry PEM or keys: log fingerprints instead. */
export interface AgentLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createAgentLogger}. */
export interface AgentLoggerOptions {
  /** Where lines go (default `process.stderr`). */
  readonly sink?: LogSink;
  /** Minimum level (default `info`). */
  readonly level?: LogLevel;
  /** Written on every line, e.g. `{ host: 'h1' }`. */
  readonly bindings?: Record<string, unknown>;
}

/**
 * A dependency-free JSON-lines logger in pino's shape (`level`, `time`, `pid`, `name`,
 * bindings, `msg`): the agent runs from a release with no node_modules, so no pino here,
 * but an operator's tooling (pino-pretty, jq) reads `logs/agent.log` like any swarm log.
 */
export function createAgentLogger(options: AgentLoggerOptions = {}): AgentLogger {
  const sink = options.sink ?? process.stderr;
  const min = LOG_LEVELS[options.level ?? 'info'];
  const base = { pid: process.pid, name: 'agent', ...options.bindings };
  const at =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LOG_LEVELS[level] < min) return;
      const line = { level: LOG_LEVELS[level], time: new Date().toISOString(), ...base, ...fields, msg };
      sink.write(`${JSON.stringify(line)}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** `SWARM_LOG_LEVEL` when it names a level, else `info` (the same variable as swarm's own logs). */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const value = env.SWARM_LOG_LEVEL;
  return value !== undefined && Object.hasOwn(LOG_LEVELS, value) ? (value as LogLevel) : 'info';
}
