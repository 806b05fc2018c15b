import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import type { CertifiedKey } from '@swarm/pki';
import type { Answer } from './https-client.js';

/** A request whose body the test writes by hand, and may never finish. */
export interface OpenRequest {
  readonly req: ClientRequest;
  /** The answer, as soon as the server sends it (whatever the state of our body). */
  readonly answer: Promise<Answer>;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
}

/**
 * Start a request and send only its headers: the test then writes as much body as it likes
 * and can observe that the server answered (and closed) without waiting for the rest.
 */
export function openRequest(options: {
  port: number;
  caPem: string;
  client?: CertifiedKey;
  method?: string;
  path: string;
  headers: Record<string, string | number>;
}): OpenRequest {
  const req = httpsRequest({
    host: '127.0.0.1',
    port: options.port,
    method: options.method ?? 'POST',
    path: options.path,
    ca: options.caPem,
    ...(options.client ? { cert: options.client.certPem, key: options.client.keyPem } : {}),
    agent: false,
    headers: options.headers,
  });
  const closed = new Promise<void>((resolve) => {
    req.on('socket', (socket) => socket.once('close', () => resolve()));
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
      res.on('error', reject);
    });
    req.once('error', reject);
  });
  // Writing after the server closed raises EPIPE/ECONNRESET on the request: the answer (if
  // any) has already been captured, so that error is expected and ignored here.
  answer.catch(() => undefined);
  req.on('error', () => undefined);
  req.flushHeaders();
  return { req, answer, closed };
}
