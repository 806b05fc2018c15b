import type { FastifyInstance } from 'fastify';
import type { ReleaseList } from '@swarm/protocol';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';

/** GET /releases — master only: every retained release with its slot (wiki/reference/updater-api.md). */
export async function releasesRoute(app: FastifyInstance, options: { readonly daemon: UpdaterDaemon }): Promise<void> {
  app.get('/releases', { config: { role: 'master' } }, async (): Promise<ReleaseList> => ({
    releases: options.daemon.releases(),
  }));
}
