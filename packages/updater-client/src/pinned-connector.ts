import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildTlsDialer, type Connector, type ConnectorCallback, type ConnectorOptions } from '@swarm/http';
import { swarmError } from '@swarm/errors';
import type { PinBook } from './pin-book.js';
import type { MasterIdentity, TargetDetails } from './target.js';
import { certificateRejected, connectError } from './transport-errors.js';

/** Options of {@link createPinnedConnector}. */
export interface PinnedConnectorOptions {
  /** Budget for TCP connect plus the TLS handshake; past it the host is unreachable. */
  readonly connectTimeoutMs: number;
  /**
   * How long to wait, after a TLS 1.3 handshake, for the sign that the worker accepted our
   * certificate (see {@link createPinnedConnector}). Past it the connection is used anyway.
   */
  readonly acceptanceWaitMs: number;
}

/**
 * The connector of the client's undici dispatcher: every connection presents the master
 * certificate, trusts only the swarm CA, keeps normal hostname verification (the updater
 * certificate names its address), and is handed to undici — which then writes the request
 * on it — only after two more checks on **this** connection:
 *
 * 1. Pin. The SHA-256 of the peer leaf's DER must equal the pin recorded for the origin
 *    dialled (looked up in the {@link PinBook}); otherwise the socket is destroyed and the
 *    request fails with SWARM_ERR_CLIENT_PIN_MISMATCH before a byte of it is written. An
 *    origin with no pin is never dialled (fail closed).
 * 2. Acceptance. In TLS 1.3 the client finishes its handshake before the server has checked
 *    the client certificate; a server that refuses ours (a Node/fastify updater with
 *    `rejectUnauthorized`) closes the connection a round trip later, and the request would
 *    fail as a vague "other side closed". A server that accepts sends its NewSessionTicket
 *    messages instead: the client waits for the first ticket (the `session` event), and a
 *    close or alert before it means "the worker rejected our certificate" — told apart from
 *    a connection lost mid-request, and before any request byte is written. In TLS 1.2 the
 *    refusal happens inside the handshake and needs no wait.
 *
 * TLS session resumption is off (`maxCachedSessions: 0`): every connection runs a full
 * handshake, so the pin is always checked against a certificate the peer just proved it
 * holds the key of — never against one remembered from an earlier connection.
 */
export function createPinnedConnector(
  identity: MasterIdentity,
  pins: PinBook,
  options: PinnedConnectorOptions,
): Connector {
  const dial = buildTlsDialer({
    ca: identity.caPem,
    cert: identity.certPem,
    key: identity.keyPem,
    minVersion: 'TLSv1.2',
    timeout: options.connectTimeoutMs,
    maxCachedSessions: 0,
  }) as unknown as (opts: ConnectorOptions, cb: ConnectorCallback) => Socket | undefined;

  return (opts, callback) => {
    const key = opts.host ?? `${opts.hostname}:${opts.port}`;
    const port = Number(opts.port);
    const details = (host: string): TargetDetails => ({ host, address: opts.hostname, port });
    const before = pins.expected(key);
    if (!before) {
      // Nobody asked for this origin with a pin: refuse to dial it at all. (undici also dials
      // again for a request that was aborted while queued, after its pin was released.) The
      // callback must not run synchronously: undici's client ignores a resume from inside its
      // own connect call, and would then never settle `close()`.
      const refusal = swarmError(
        'SWARM_ERR_CLIENT_PIN_MISSING',
        `no certificate pin is recorded for ${key}: refusing to connect`,
        details(key),
      );
      process.nextTick(() => callback(refusal, null));
      return;
    }

    let ticket = false;
    const socket = dial(opts, (err, connected) => {
      if (err || !connected) {
        callback(connectError(err, details(before.host)), null);
        return;
      }
      const tls = connected as TLSSocket;
      // Read the expectation now, not when dialling began: it is the request that will run on
      // this connection that must find its own host's certificate here.
      const expected = pins.expected(key);
      if (!expected) {
        tls.destroy();
        callback(
          swarmError('SWARM_ERR_CLIENT_PIN_MISSING', `no certificate pin is recorded for ${key}`, details(before.host)),
          null,
        );
        return;
      }
      const raw = tls.getPeerCertificate()?.raw;
      const actual = raw ? createHash('sha256').update(raw).digest('hex') : null;
      if (actual !== expected.pin) {
        tls.destroy();
        callback(
          swarmError(
            'SWARM_ERR_CLIENT_PIN_MISMATCH',
            `the worker's certificate does not match its pin: host ${expected.host} (${key}) presented ${actual ?? 'no certificate'}, expected ${expected.pin}`,
            { ...details(expected.host), expectedPin: expected.pin, actualPin: actual },
          ),
          null,
        );
        return;
      }
      if (tls.getProtocol() !== 'TLSv1.3' || ticket) {
        callback(null, tls);
        return;
      }
      awaitAcceptance(tls, options.acceptanceWaitMs).then(
        () => callback(null, tls),
        (refusal: Error) => {
          tls.destroy();
          callback(certificateRejected(details(expected.host), refusal.message, refusal), null);
        },
      );
    });
    socket?.once('session', () => {
      ticket = true;
    });
  };
}

/**
 * Resolve once the server sends a session ticket (it accepted our certificate) or after
 * `waitMs` (a server that issues no tickets); reject with the reason if it closes first.
 */
function awaitAcceptance(socket: TLSSocket, waitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      socket.off('session', onSession);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('end', onEnd);
      fn();
    };
    // `session` is emitted from inside the TLS layer's read of the ticket; handing the socket
    // to undici from there (it attaches its reader and writes the request) leaves the response
    // unread. Hand it over once that read has unwound.
    const onSession = (): void => done(() => setImmediate(resolve));
    const onError = (err: Error): void =>
      done(() =>
        reject(
          new Error(`${(err as { code?: string }).code ?? 'error'}: ${err.message.split('\n')[0]}`, { cause: err }),
        ),
      );
    const onClose = (): void => done(() => reject(new Error('the connection closed right after the handshake')));
    const onEnd = (): void => done(() => reject(new Error('the connection ended right after the handshake')));
    const timer = setTimeout(() => done(resolve), waitMs);
    socket.once('session', onSession);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('end', onEnd);
  });
}
