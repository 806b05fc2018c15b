import type { FastifyInstance } from 'fastify';
import type { UpdaterDaemon } from '../lifecycle/updater-daemon.js';

/** GET /releases — master only: every retained release with its slot (wiki/reference/updater-api.md). */
export async function releasesRoute(app: FastifyInstance, options: { readonly daemon: UpdaterDaemon }): Promise<void> {
  app.get('/releases', { config: { role: 'master' } }, async () => ({ releases: options.daemon.releases() }));
}
