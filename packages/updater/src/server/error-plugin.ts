import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import { RETRY_AFTER_SECONDS } from '../operations/runner.js';
import { lingerAfterEarlyAnswer } from './lingering-close.js';

/** Options of {@link errorPlugin}. */
export interface ErrorPluginOptions {
  /** Describes the host for the `rolledBack` of an unexpected 500. */
  readonly hostState: (detail: string) => Promise<unknown>;
}

/**
 * Every error leaves as `{ code, message, ...details }` with its catalogue status (wiki/reference/updater-api.md);
 * unknown errors become 500 SWARM_ERR_UPDATER_INTERNAL with `rolledBack`, unknown routes 404
 * SWARM_ERR_UPDATER_NOT_FOUND. No stack trace ever reaches a client: only the log has it.
 * An error answered before the request body was read closes the connection (after a short,
 * capped lingering read so the client gets the answer), so the rest of the body is never
 * read: a 403 or 413 must not cost the bandwidth of the upload it refuses.
 */
export const errorPlugin = fp(
  async (app: FastifyInstance, options: ErrorPluginOptions) => {
    app.setErrorHandler(async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const error = await toSwarmError(err, options);
      if (error.statusCode >= 500) req.log.error({ err, code: error.code }, error.message);
      else req.log.info({ code: error.code, identity: req.identity?.uri }, error.message);
      if (!req.raw.complete) {
        reply.header('connection', 'close');
        lingerAfterEarlyAnswer(req.raw);
      }
      if (error.code === 'SWARM_ERR_UPDATER_BUSY' || error.code === 'SWARM_ERR_UPDATER_SHUTTING_DOWN') {
        const retryAfter = error.details.retryAfter;
        reply.header('retry-after', String(typeof retryAfter === 'number' ? retryAfter : RETRY_AFTER_SECONDS));
      }
      return reply.status(error.statusCode).send(errorBody(error));
    });
    // RFC 9110 §15.5.6: a path that exists with other methods answers 405 and lists them in
    // `Allow`; only a path that exists with no method at all is 404.
    const methods = new Map<string, Set<string>>();
    app.addHook('onRoute', (route) => {
      const known = methods.get(route.url) ?? new Set<string>();
      for (const method of [route.method].flat()) known.add(method);
      methods.set(route.url, known);
    });
    app.setNotFoundHandler(async (req, reply) => {
      const path = req.url.split('?')[0] ?? '';
      const allowed = methods.get(path);
      if (allowed && !allowed.has(req.method)) {
        const allow = [...allowed].sort().join(', ');
        reply.header('allow', allow);
        throw swarmError(
          'SWARM_ERR_UPDATER_METHOD_NOT_ALLOWED',
          `${req.method} ${path}: this endpoint takes ${allow}`,
          {
            allow: [...allowed].sort(),
          },
        );
      }
      throw swarmError('SWARM_ERR_UPDATER_NOT_FOUND', `no endpoint ${req.method} ${path}`);
    });
  },
  { name: 'swarm-errors', fastify: '5.x' },
);

async function toSwarmError(err: FastifyError, options: ErrorPluginOptions): Promise<SwarmError> {
  if (isSwarmError(err)) return err;
  const status = err.statusCode ?? 500;
  if (status === 413) return swarmError('SWARM_ERR_UPLOAD_TOO_LARGE', err.message);
  if (status >= 400 && status < 500) {
    return swarmError('SWARM_ERR_UPDATER_BAD_REQUEST', `bad request: ${err.message}`, { cause: err.code });
  }
  return swarmError(
    'SWARM_ERR_UPDATER_INTERNAL',
    `the updater failed unexpectedly: ${err.message}`,
    { rolledBack: await options.hostState(err.message).catch(() => null) },
    { cause: err },
  );
}
