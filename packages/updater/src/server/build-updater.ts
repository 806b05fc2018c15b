import type { Server } from 'node:https';
import fastify, { LogController, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import multipart from '@fastify/multipart';
import type { Logger } from '@swarm/log';
import type { HostInfo } from '@swarm/pki';
import type { UpdaterConfig } from '../config/config-keys.js';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';
import { healthRoute } from '../routes/health-route.js';
import { releasesRoute } from '../routes/releases-route.js';
import { rollbackRoute } from '../routes/rollback-route.js';
import { updateRoute, updateSelfRoute } from '../routes/upload-routes.js';
import { stageRoute, stagedRoutes } from '../routes/stage-routes.js';
import { pullRoute } from '../routes/pull-route.js';
import { errorPlugin } from './error-plugin.js';
import { identityPlugin, type IdentitySource } from './identity-plugin.js';

/** Options of {@link buildUpdater}. */
export interface BuildUpdaterOptions {
  /** The opened daemon (lock held, journal recovered). */
  readonly daemon: UpdaterDaemon;
  readonly config: UpdaterConfig;
  /** This host (host.json): name for /health, trust domain for identities. */
  readonly host: HostInfo;
  readonly logger: Logger;
  /** The updater's own version for /health. */
  readonly version: string;
  /** Identity source override (tests with inject()); default: the TLS client certificate. */
  readonly identify?: IdentitySource;
  /** The server to run on; startUpdater passes an https server with client-certificate checks. */
  readonly serverFactory?: FastifyServerFactory;
}

/**
 * The updater's fastify app, never listening by itself: startUpdater adds TLS and listen.
 * Plugins: error mapping, client identity (before any body byte), multipart with limits on
 * purpose; routes per wiki/reference/updater-api.md.
 */
export async function buildUpdater(options: BuildUpdaterOptions): Promise<FastifyInstance<Server>> {
  const { daemon, config, logger } = options;
  const app = fastify({
    loggerInstance: logger,
    // Requests are logged by our onResponse hook, with the caller's identity.
    logController: new LogController({ disableRequestLogging: true }),
    // Uploads of a gigabyte over a slow link are legitimate; the receive step has its own deadline.
    requestTimeout: 0,
    // /health must keep answering while the server drains on shutdown; operations refuse
    // themselves with SWARM_ERR_UPDATER_SHUTTING_DOWN.
    return503OnClosing: false,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  }) as unknown as FastifyInstance<Server>;

  await app.register(errorPlugin, { hostState: (detail: string) => daemon.hostState(detail) });
  await app.register(identityPlugin, {
    trustDomain: options.host.trustDomain,
    ...(options.identify ? { identify: options.identify } : {}),
  });

  // Only the upload routes read a body, as multipart, and /activate and /pull their small JSON
  // bodies (stage-routes.ts, pull-route.ts). Any other body is ignored, never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  await app.register(multipart, {
    limits: {
      fieldNameSize: 32,
      fieldSize: 128,
      fields: 2,
      files: 1,
      parts: 3,
      headerPairs: 8,
      fileSize: config.maxUploadBytes,
    },
  });

  app.addHook('onResponse', async (req, reply) => {
    const line = {
      method: req.method,
      url: req.url,
      status: reply.statusCode,
      identity: req.identity?.uri,
      ms: Math.round(reply.elapsedTime),
    };
    if (req.url === '/health') req.log.debug(line, 'request');
    else req.log.info(line, 'request');
  });

  await app.register(healthRoute, { daemon, host: options.host.name, version: options.version });
  await app.register(releasesRoute, { daemon });
  const upload = { daemon, maxUploadBytes: config.maxUploadBytes, idleTimeoutMs: config.receiveIdleTimeoutMs };
  await app.register(updateRoute, upload);
  await app.register(updateSelfRoute, upload);
  await app.register(rollbackRoute, { daemon });
  await app.register(stageRoute, upload);
  await app.register(stagedRoutes, { daemon });
  await app.register(pullRoute, { daemon, config });
  return app;
}
