import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Component name, bound on every line (`updater`, `supervisor`, `master`, `agent`). */
  readonly name: string;
  /** Minimum level (default: `SWARM_LOG_LEVEL`, else `info`). */
  readonly level?: LevelWithSilent;
  /** Where lines go (default: stderr — stdout is for data). */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
  /** Extra bindings, e.g. `{ host: 'web-1' }`. */
  readonly bindings?: Record<string, unknown>;
}

/**
 * Paths redacted on every logger: keys and anything PEM-shaped never reach a log line.
 * Log certificate fingerprints instead.
 */
export const REDACTED_PATHS = [
  'key',
  'keyPem',
  'privateKey',
  'privateKeyPem',
  'certPem',
  'caPem',
  '*.key',
  '*.keyPem',
  '*.privateKey',
  '*.privateKeyPem',
  '*.certPem',
  '*.caPem',
  'headers.authorization',
  'req.headers.authorization',
];

/** A JSON-lines pino logger on stderr with swarm's redaction rules. */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? (process.env.SWARM_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  return pino(
    {
      name: options.name,
      level,
      base: { pid: process.pid, ...options.bindings },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? pino.destination({ fd: 2, sync: true })) as DestinationStream,
  );
}
