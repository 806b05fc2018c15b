import type { FastifyRequest } from 'fastify';
import { swarmError } from '@swarm/errors';

/**
 * Room for the multipart framing around the tarball (boundaries, part headers, the sha256 and
 * size fields — all capped small by the multipart limits).
 */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * Route-level onRequest check of an upload, after the identity check and before any body byte
 * is read: the body must be multipart/form-data (400 otherwise — fastify would otherwise parse
 * e.g. a JSON body before the handler runs), and a Content-Length that cannot fit under the
 * cap is refused at once with 413 (the connection is then closed, the body never read).
 */
export function uploadGuard(maxUploadBytes: number) {
  return async (req: FastifyRequest): Promise<void> => {
    const type = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\s*(;|$)/i.test(type)) {
      throw swarmError(
        'SWARM_ERR_UPLOAD_NOT_MULTIPART',
        `the request is ${type ? `"${type.slice(0, 80)}"` : 'without a content type'}, not multipart/form-data`,
      );
    }
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > maxUploadBytes + MULTIPART_OVERHEAD_BYTES) {
      throw swarmError(
        'SWARM_ERR_UPLOAD_TOO_LARGE',
        `the request declares ${length} bytes, over the upload cap of ${maxUploadBytes} bytes`,
        {
          maxUploadBytes,
        },
      );
    }
  };
}
