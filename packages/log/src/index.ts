// Structured logs (pino) on stderr, one child per component, keys redacted.
export { createLogger, REDACTED_PATHS, type Logger, type LoggerOptions } from './logger.js';
