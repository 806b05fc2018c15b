import type { FastifyInstance } from 'fastify';

/**
 * Read small JSON bodies in this plugin (fastify scopes content-type parsers to the plugin
 * that adds them; every other route ignores bodies that are not its multipart upload). A body
 * over `bodyLimit` is fastify's 413; one that is not JSON reaches the route as `undefined`,
 * which answers it with its own coded 400.
 */
export function acceptSmallJson(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(null, undefined);
    }
  });
}
