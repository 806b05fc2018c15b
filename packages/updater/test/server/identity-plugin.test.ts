/**
 * The identity plugin on its own, through inject(): what it does with a caller that has no
 * valid swarm identity. The real handshakes (another trust domain, wrong roles, no
 * certificate) are in test/auth.test.ts and test/reliability/authorization.test.ts; here are
 * the branches TLS never lets a real client reach.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fastify, { type FastifyInstance } from 'fastify';
import { swarmError } from '@swarm/errors';
import { errorPlugin } from '../../src/server/error-plugin.js';
import { identityPlugin, type IdentitySource } from '../../src/server/identity-plugin.js';

async function app(identify?: IdentitySource): Promise<FastifyInstance> {
  const a = fastify();
  await a.register(errorPlugin, { hostState: async () => null });
  await a.register(identityPlugin, { trustDomain: 'swarm.test', ...(identify ? { identify } : {}) });
  a.get('/health', async (req) => ({ identity: req.identity?.uri ?? null }));
  a.get('/releases', { config: { role: 'master' } }, async () => ({ ok: true }));
  return a;
}

describe('identity plugin', () => {
  let tls: FastifyInstance;
  let otherDomain: FastifyInstance;
  before(async () => {
    // The default source: inject() has no TLS socket, like a connection TLS did not verify.
    tls = await app();
    // A peer TLS verified against the CA, whose certificate names another trust domain.
    otherDomain = await app(() => {
      throw swarmError('SWARM_ERR_PKI_IDENTITY_INVALID', 'the certificate belongs to trust domain "elsewhere.test"');
    });
  });
  after(async () => {
    await tls.close();
    await otherDomain.close();
  });

  it('refuses a request that did not come over a verified TLS connection on every route, /health included', async () => {
    for (const url of ['/health', '/releases']) {
      const res = await tls.inject({ url });
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.json().code, 'SWARM_ERR_PKI_IDENTITY_INVALID');
      assert.match(res.json().message, /authenticated TLS connection/);
    }
  });

  it('lets a verified peer without a valid identity read a route without a role, with a null identity', async () => {
    const health = await otherDomain.inject({ url: '/health' });
    assert.equal(health.statusCode, 200, health.body);
    assert.deepEqual(health.json(), { identity: null });
    const releases = await otherDomain.inject({ url: '/releases' });
    assert.equal(releases.statusCode, 403);
    assert.equal(releases.json().code, 'SWARM_ERR_PKI_IDENTITY_INVALID');
    assert.match(releases.json().message, /elsewhere\.test/);
  });

  it('does not swallow other failures of the identity source', async () => {
    const broken = await app(() => {
      throw new TypeError('boom');
    });
    try {
      const res = await broken.inject({ url: '/health' });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().code, 'SWARM_ERR_UPDATER_INTERNAL');
    } finally {
      await broken.close();
    }
  });
});
