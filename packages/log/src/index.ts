// Structured logs (pino) on stderr, one child per component, keys redacted.
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
