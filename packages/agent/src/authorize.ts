import type { PeerCertificate } from 'node:tls';
import { identityOfPeer, type Identity } from '@swarm/pki';

/** The outcome of checking who may call a non-health route. */
export type PeerDecision =
  | { readonly allowed: true; readonly identity: Identity }
  | { readonly allowed: false; readonly identity: Identity | null; readonly reason: string };

/**
 * May this TLS peer call the agent's operator routes (everything but `GET /health`)?
 *
 * The TLS layer has already proved the peer holds a certificate of our CA. Here the role is
 * read from the certificate's one SPIFFE URI SAN — never the CN — in the agent's own trust
 * domain, and only two identities pass: the master, and the updater of this same host.
 * Another host's updater is refused: a compromised worker must not steer its neighbours'
 * agents. Agents never pass, not even this host's own.
 */
export function authorizePeer(peer: PeerCertificate | null | undefined, self: Identity): PeerDecision {
  let identity: Identity;
  try {
    identity = identityOfPeer(peer, self.trustDomain);
  } catch (err) {
    return { allowed: false, identity: null, reason: (err as Error).message };
  }
  if (identity.role === 'master') return { allowed: true, identity };
  if (identity.role === 'updater' && identity.host === self.host) return { allowed: true, identity };
  const reason =
    identity.role === 'updater'
      ? `${identity.uri} is the updater of another host; only the master or the updater of "${self.host}" may call this`
      : `${identity.uri} has role ${identity.role}; only the master or the updater of "${self.host}" may call this`;
  return { allowed: false, identity, reason };
}
