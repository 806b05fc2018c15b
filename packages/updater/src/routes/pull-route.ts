import type { FastifyInstance } from 'fastify';
import { swarmError } from '@swarm/errors';
import { parseReference } from '@swarm/oci-client';
import { parsePullRequest, type StageAnswer } from '@swarm/protocol';
import type { UpdaterConfig } from '../config/config-keys.js';
import type { UpdaterDaemon } from '../daemon/updater-daemon.js';
import { faultPoint } from '../operations/fault-point.js';
import type { OperationResult } from '../operations/lifecycle-context.js';
import { pullRelease } from '../receive/pull-release.js';
import { acceptSmallJson } from './json-body.js';

/** The largest `POST /pull` body read: registry, repository (≤ 255) and digest, with room. */
const PULL_BODY_LIMIT = 4096;

/**
 * POST /pull — master only (wiki/reference/updater-api.md#post-pull): the release is fetched
 * from an OCI registry by digest instead of uploaded, then goes on exactly as `/update` (or
 * `/stage` with `"stage": true`), with the same answers. The body is checked before the runner
 * is claimed: a request without a digest is 400 and touches nothing.
 */
export async function pullRoute(
  app: FastifyInstance,
  options: { readonly daemon: UpdaterDaemon; readonly config: UpdaterConfig },
): Promise<void> {
  const { daemon, config } = options;
  acceptSmallJson(app, PULL_BODY_LIMIT);
  app.post(
    '/pull',
    { config: { role: 'master' }, bodyLimit: PULL_BODY_LIMIT },
    async (req): Promise<OperationResult | StageAnswer> => {
      const request = parsePullRequest(req.body);
      if (typeof request === 'string') {
        throw swarmError(
          'SWARM_ERR_UPDATER_BAD_REQUEST',
          `POST /pull takes {"registry": "HOST[:PORT]", "repository": "…", "digest": "sha256:…", "stage": false}: ${request}`,
        );
      }
      try {
        parseReference(`${request.registry}/${request.repository}@${request.digest}`, 'the artifact');
      } catch (err) {
        throw swarmError('SWARM_ERR_UPDATER_BAD_REQUEST', `POST /pull: ${(err as Error).message}`);
      }
      const receive = pullRelease(request, {
        config,
        onFirstBytes: () => faultPoint('during:receive'),
        holds: (sha256) => daemon.holds(sha256),
      });
      return request.stage ? daemon.stage(receive) : daemon.update(receive);
    },
  );
}
