import { createLogger, type Logger } from '@swarm/log';
import { readWorkerBundle } from '@swarm/pki';
import type { UpdaterConfig } from '../config/config-keys.js';
import { startUpdater, type RunningUpdater } from './start-updater.js';

/** Options of {@link runUpdater}. */
export interface RunUpdaterOptions {
  /** Stops the updater when aborted (as SIGTERM does). */
  readonly signal?: AbortSignal;
  /** Called once the updater listens. */
  readonly onReady?: (updater: RunningUpdater) => void;
  /** Default: pino on stderr. */
  readonly logger?: Logger;
}

/**
 * Run the updater until SIGTERM, SIGINT or `signal`, then shut down gracefully. Resolves once
 * it has stopped; rejects if it cannot start (SWARM_ERR_UPDATER_LOCKED, CONFIG_INVALID, …).
 * This is what `swarm updater` calls; it never exits the process itself.
 */
export async function runUpdater(config: UpdaterConfig, options: RunUpdaterOptions = {}): Promise<void> {
  const bundle = await readWorkerBundle(config.bundle, { requireUpdater: true });
  const logger = options.logger ?? createLogger({ name: 'updater', bindings: { host: bundle.host.name } });
  const updater = await startUpdater({ config, bundle, logger });
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    onSignal = (signal) => resolve(signal);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    options.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
    if (options.signal?.aborted) resolve('abort');
  });
  options.onReady?.(updater);
  const why = await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  logger.info({ signal: why }, 'shutting down');
  await updater.close();
}
