import type { FastifyInstance } from 'fastify';
import { faultPoint } from '../lifecycle/fault-point.js';
import type { UpdaterDaemon } from '../lifecycle/updater-daemon.js';
import { receiveUpload } from '../receive/receive-upload.js';
import { uploadGuard } from './upload-guard.js';

/** Options of the upload routes. */
export interface UploadRouteOptions {
  readonly daemon: UpdaterDaemon;
  readonly maxUploadBytes: number;
  readonly idleTimeoutMs: number;
}

/**
 * POST /update — master only (SPEC.md §5). The runner is claimed before the body is read, so
 * a push while another operation runs gets 423 at once; the upload is then streamed to
 * staging by the lifecycle's receive step.
 */
export async function updateRoute(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { daemon, maxUploadBytes, idleTimeoutMs } = options;
  app.post('/update', { config: { role: 'master' }, onRequest: uploadGuard(maxUploadBytes) }, async (req) =>
    daemon.update((file, signal) =>
      receiveUpload(req, file, signal, {
        maxUploadBytes,
        idleTimeoutMs,
        onFirstBytes: () => faultPoint('during:receive'),
      }),
    ),
  );
}

/**
 * POST /update-self — reserved for self-update (issue 5): the same guard, receive and verify
 * as /update, then 409 SWARM_ERR_SELF_UPDATE_UNSUPPORTED until the switch is implemented.
 */
export async function updateSelfRoute(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { daemon, maxUploadBytes, idleTimeoutMs } = options;
  app.post('/update-self', { config: { role: 'master' }, onRequest: uploadGuard(maxUploadBytes) }, async (req) =>
    daemon.updateSelf((file, signal) => receiveUpload(req, file, signal, { maxUploadBytes, idleTimeoutMs })),
  );
}
