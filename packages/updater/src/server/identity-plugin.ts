import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasCode, swarmError, type SwarmError } from '@swarm/errors';
import { identityOfPeer, type Identity, type Role } from '@swarm/pki';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who called, from the client certificate's URI SAN (set in onRequest); null on a route
     * without a role when the certificate, verified by the CA, carries no valid identity of
     * this trust domain.
     */
    identity: Identity | null;
  }
  interface FastifyContextConfig {
    /** The role a route requires; absent: any certificate of the CA (wiki/reference/updater-api.md#transport-and-identity). */
    role?: Role;
  }
}

/**
 * Where a request's identity comes from. It throws SWARM_ERR_PKI_IDENTITY_INVALID when the
 * caller has no valid swarm identity of this trust domain, with `details.authenticated: false`
 * when the caller is not even a peer verified against the CA (refused on every route).
 */
export type IdentitySource = (req: FastifyRequest) => Identity;

/** Options of {@link identityPlugin}. */
export interface IdentityPluginOptions {
  /** This host's trust domain: certificates of another one are refused on role-gated routes. */
  readonly trustDomain: string;
  /** Override the identity source (tests with inject()); default: the TLS peer certificate. */
  readonly identify?: IdentitySource;
}

/** The identity of the TLS client certificate of `req` — its URI SAN, never its CN. */
export function tlsIdentity(trustDomain: string): IdentitySource {
  return (req) => {
    const socket = req.raw.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) {
      throw swarmError(
        'SWARM_ERR_PKI_IDENTITY_INVALID',
        'the request did not come over an authenticated TLS connection',
        { authenticated: false },
      );
    }
    return identityOfPeer(socket.getPeerCertificate(), trustDomain);
  };
}

/**
 * Client identity and authorization, in `onRequest` — before fastify reads a single byte of
 * the body — so a caller without the right role cannot make the updater spool an upload.
 * The TLS layer has already refused connections without a certificate of the CA;
 * here routes with `config.role` require that role (403 SWARM_ERR_AUTH_FORBIDDEN) and so a
 * valid identity of this trust domain (403 SWARM_ERR_PKI_IDENTITY_INVALID). Routes without
 * one (`GET /health`) accept any certificate of the CA (wiki/reference/updater-api.md#transport-and-identity), whatever its URI SAN
 * says: `req.identity` is then null when the SAN is missing, malformed or of another trust
 * domain. A request that did not come over a verified TLS connection is refused everywhere.
 */
export const identityPlugin = fp(
  async (app: FastifyInstance, options: IdentityPluginOptions) => {
    const identify = options.identify ?? tlsIdentity(options.trustDomain);
    app.decorateRequest('identity', null);
    app.addHook('onRequest', async (req) => {
      const required = req.routeOptions.config?.role;
      let identity: Identity;
      try {
        identity = identify(req);
      } catch (err) {
        if (required || !verifiedWithoutIdentity(err)) throw err;
        req.identity = null;
        return;
      }
      req.identity = identity;
      if (required && identity.role !== required) {
        throw swarmError(
          'SWARM_ERR_AUTH_FORBIDDEN',
          `${identity.uri} may not call ${req.method} ${req.routeOptions.url ?? req.url}: it requires the ${required} role`,
          { role: identity.role, required },
        );
      }
    });
  },
  { name: 'swarm-identity', fastify: '5.x' },
);

/** True for an identity refusal of a peer that TLS did verify against the CA. */
function verifiedWithoutIdentity(err: unknown): boolean {
  return hasCode(err, 'SWARM_ERR_PKI_IDENTITY_INVALID') && (err as SwarmError).details.authenticated !== false;
}
