import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { CertifiedKey } from '@swarm/pki';

/** A parsed answer. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The JSON body (undefined when not JSON). */
  readonly body: any;  
  readonly text: string;
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly port: number;
  readonly method?: string;
  readonly path: string;
  /** The CA to verify the updater with. */
  readonly caPem: string;
  /** The client identity; omitted: no client certificate. */
  readonly client?: CertifiedKey;
  readonly headers?: Record<string, string | number>;
  readonly body?: Buffer | string | Readable;
}

/** One HTTPS request over a fresh connection (no keep-alive), verifying the server against the CA. */
export function call(options: CallOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path,
        ca: options.caPem,
        ...(options.client ? { cert: options.client.certPem, key: options.client.keyPem } : {}),
        agent: false,
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
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
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}
