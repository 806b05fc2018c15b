import type { FastifyInstance } from 'fastify';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';

/** POST /rollback — master only: make prev active again, restart, probe (404 without a prev). */
export async function rollbackRoute(app: FastifyInstance, options: { readonly daemon: UpdaterDaemon }): Promise<void> {
  app.post('/rollback', { config: { role: 'master' } }, async () => options.daemon.rollback());
}
