import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { swarmError } from '@swarm/errors';
import { identityOfPeer, type Identity, type Role } from '@swarm/pki';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called, from the client certificate's URI SAN (set in onRequest). */
    identity: Identity | null;
  }
  interface FastifyContextConfig {
    /** The role a route requires; absent: any certificate of the CA. */
    role?: Role;
  }
}

/** Where a request's identity comes from. */
export type IdentitySource = (req: FastifyRequest) => Identity;

/** Options of {@link identityPlugin}. */
export interface IdentityPluginOptions {
  /** This host's trust domain: certificates of another one are refused. */
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
      );
    }
    return identityOfPeer(socket.getPeerCertificate(), trustDomain);
  };
}

/**
 * Client identity and authorization, in `onRequest` — before fastify reads a single byte of
 * the body — so a caller without the right role cannot make the updater spool an upload
 * (STYLE.md). The TLS layer has already refused connections without a certificate of the CA;
 * here routes with `config.role` require that role (403 SWARM_ERR_AUTH_FORBIDDEN).
 */
export const identityPlugin = fp(
  async (app: FastifyInstance, options: IdentityPluginOptions) => {
    const identify = options.identify ?? tlsIdentity(options.trustDomain);
    app.decorateRequest('identity', null);
    app.addHook('onRequest', async (req) => {
      const identity = identify(req);
      req.identity = identity;
      const required = req.routeOptions.config?.role;
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
