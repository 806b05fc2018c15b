import type { FastifyInstance } from 'fastify';
import { swarmError } from '@swarm/errors';
import { parseActivateRequest, type DiscardAnswer, type StageAnswer } from '@swarm/protocol';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';
import type { OperationResult } from '../operations/lifecycle-context.js';
import { faultPoint } from '../operations/fault-point.js';
import { receiveUpload } from '../receive/receive-upload.js';
import type { UploadRouteOptions } from './upload-routes.js';
import { acceptSmallJson } from './json-body.js';
import { uploadGuard } from './upload-guard.js';

/** The largest `POST /activate` body read: `{ "sha256": "<64 hex>" }` with room for whitespace. */
const ACTIVATE_BODY_LIMIT = 1024;

/**
 * POST /stage — master only (wiki/reference/updater-api.md#post-stage): the upload of
 * /update, under the same guard, received, verified, extracted and installed, then kept as
 * the staged release; `current` and the agent are untouched.
 */
export async function stageRoute(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { daemon, maxUploadBytes, idleTimeoutMs } = options;
  app.post(
    '/stage',
    { config: { role: 'master' }, onRequest: uploadGuard(maxUploadBytes) },
    async (req): Promise<StageAnswer> =>
      daemon.stage((file, signal) =>
        receiveUpload(req, file, signal, {
          maxUploadBytes,
          idleTimeoutMs,
          onFirstBytes: () => faultPoint('during:receive'),
        }),
      ),
  );
}

/**
 * POST /activate and DELETE /staged — master only. /activate reads one small JSON body (this
 * plugin's own parser: every other route ignores bodies that are not its multipart upload).
 */
export async function stagedRoutes(app: FastifyInstance, options: { readonly daemon: UpdaterDaemon }): Promise<void> {
  acceptSmallJson(app, ACTIVATE_BODY_LIMIT);
  app.post(
    '/activate',
    { config: { role: 'master' }, bodyLimit: ACTIVATE_BODY_LIMIT },
    async (req): Promise<OperationResult> => {
      const request = parseActivateRequest(req.body);
      if (!request) {
        throw swarmError(
          'SWARM_ERR_UPDATER_BAD_REQUEST',
          'POST /activate takes a JSON body {"sha256": "<64 hex digits>"} (content-type application/json)',
        );
      }
      return options.daemon.activate(request.sha256);
    },
  );
  app.delete('/staged', { config: { role: 'master' } }, async (): Promise<DiscardAnswer> =>
    options.daemon.discardStaged(),
  );
}
