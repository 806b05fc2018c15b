import type { FastifyInstance } from 'fastify';
import { PROTOCOL_VERSION, type UpdaterHealth } from '@swarm/protocol';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';

/** Options of {@link healthRoute}. */
export interface HealthRouteOptions {
  readonly daemon: UpdaterDaemon;
  readonly host: string;
  readonly version: string;
}

/**
 * GET /health — any certificate of the CA (wiki/reference/updater-api.md). Built from memory only (the journal's
 * last durable state, the supervisor's view of the agent): no disk, no lock, no await on the
 * runner, so it answers at once in the middle of an update.
 */
export async function healthRoute(app: FastifyInstance, options: HealthRouteOptions): Promise<void> {
  app.get('/health', async (): Promise<UpdaterHealth> => {
    const s = options.daemon.status();
    const status = s.active && !s.agent.running && !s.busy ? 'degraded' : 'ok';
    return {
      status,
      role: 'updater',
      host: options.host,
      version: options.version,
      protocol: PROTOCOL_VERSION,
      busy: s.busy,
      operation: s.operation,
      agent: { pid: s.agent.pid, running: s.agent.running, healthy: s.agent.healthy },
      active: s.active,
      prev: s.prev,
      staged: s.staged,
      lastUpdate: s.lastUpdate,
      lastSelfUpdate: s.lastSelfUpdate,
    };
  });
}
