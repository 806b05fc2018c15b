import type { FastifyInstance } from 'fastify';
import type { SelfUpdateAccepted } from '@swarm/protocol';
import { faultPoint } from '../operations/fault-point.js';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';
import { receiveUpload } from '../receive/receive-upload.js';
import { uploadGuard } from './upload-guard.js';

/** Options of the upload routes. */
export interface UploadRouteOptions {
  readonly daemon: UpdaterDaemon;
  readonly maxUploadBytes: number;
  readonly idleTimeoutMs: number;
}

/**
 * POST /update — master only (wiki/reference/updater-api.md). The runner is claimed before the body is read, so
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
 * POST /update-self: the same guard, receive and verify as /update; 202 once the updater
 * release is staged complete in the self directory, then the supervisor switches.
 */
export async function updateSelfRoute(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { daemon, maxUploadBytes, idleTimeoutMs } = options;
  app.post(
    '/update-self',
    { config: { role: 'master' }, onRequest: uploadGuard(maxUploadBytes) },
    async (req, reply): Promise<SelfUpdateAccepted> => {
      const release = await daemon.updateSelf((file, signal) =>
        receiveUpload(req, file, signal, { maxUploadBytes, idleTimeoutMs }),
      );
      // The supervisor stops this process to switch: only once the 202 has left (or the
      // master went away — the switch goes on, and the master learns the outcome from /health).
      reply.raw.once('close', () => daemon.requestSelfSwitch());
      reply.code(202);
      const { attempt, ...record } = release;
      return { accepted: true, id: record.id, version: record.version, attempt, release: record };
    },
  );
}
