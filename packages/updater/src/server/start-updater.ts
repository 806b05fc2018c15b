import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { swarmError } from '@swarm/errors';
import { createLogger, type Logger } from '@swarm/log';
import { readWorkerBundle, type WorkerBundle } from '@swarm/pki';
import type { UpdaterConfig } from '../config/config-keys.js';
import { UpdaterDaemon } from '../daemon/updater-daemon.js';
import { updaterVersion } from '../version.js';
import { buildUpdater } from './build-updater.js';

/** Options of {@link startUpdater}. */
export interface StartUpdaterOptions {
  readonly config: UpdaterConfig;
  /** Default: a pino logger on stderr named `updater`, bound to the host name. */
  readonly logger?: Logger;
  /** Default: read from `config.bundle` (the updater certificate is required). */
  readonly bundle?: WorkerBundle;
}

/** A listening updater. */
export interface RunningUpdater {
  readonly app: FastifyInstance<Server>;
  readonly daemon: UpdaterDaemon;
  /** The bound address (the real port when `listen` asked for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  readonly version: string;
  /**
   * Graceful shutdown: abort the operation in flight (it undoes itself), stop accepting
   * connections and wait for open requests, stop supervising, release the lock. The agent keeps
   * running for the next updater to adopt.
   */
  close(): Promise<void>;
}

/**
 * Start the updater: read the bundle, open the daemon (lock, journal, recovery, agent), then
 * serve HTTPS with mandatory client certificates of the bundle's CA — a connection without
 * one, or with one of another CA, is refused during the handshake, before any route runs.
 */
export async function startUpdater(options: StartUpdaterOptions): Promise<RunningUpdater> {
  const { config } = options;
  const bundle = options.bundle ?? (await readWorkerBundle(config.bundle, { requireUpdater: true }));
  if (!bundle.updater) throw swarmError('SWARM_ERR_BUNDLE_INVALID', `${config.bundle} has no updater certificate`);
  const updater = bundle.updater;
  const logger = options.logger ?? createLogger({ name: 'updater', bindings: { host: bundle.host.name } });
  const daemon = await UpdaterDaemon.open({ config, bundle, logger });
  try {
    const version = await updaterVersion(config.selfDir);
    const app = await buildUpdater({
      daemon,
      config,
      host: bundle.host,
      logger,
      version,
      serverFactory: (handler) =>
        createServer(
          {
            ca: bundle.caPem,
            cert: updater.certPem,
            key: updater.keyPem,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2',
          },
          handler,
        ),
    });
    const listen = config.listen ?? { host: '0.0.0.0', port: bundle.host.updaterPort };
    await app.listen({
      host: listen.host,
      port: listen.port,
      // fastify names the scheme after its own options; the server factory serves https.
      listenTextResolver: (address) => `listening at ${address.replace(/^http:/, 'https:')}`,
    });
    const bound = app.server.address() as AddressInfo;
    logger.info({ address: bound.address, port: bound.port, version, installDir: config.installDir }, 'updater ready');
    let closing: Promise<void> | null = null;
    return {
      app,
      daemon,
      address: { host: bound.address, port: bound.port },
      version,
      close() {
        closing ??= (async () => {
          await daemon.runner.close(swarmError('SWARM_ERR_UPDATER_SHUTTING_DOWN'));
          await app.close();
          await daemon.close();
          logger.info('updater stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await daemon.close();
    throw err;
  }
}
