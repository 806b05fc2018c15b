import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

/** A client identity of the fleet's CA: the master's, read from its home. */
export interface TlsIdentity {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export async function masterIdentity(home: string): Promise<TlsIdentity> {
  const [ca, cert, key] = await Promise.all([
    readFile(join(home, 'ca', 'ca.crt'), 'utf8'),
    readFile(join(home, 'master', 'master.crt'), 'utf8'),
    readFile(join(home, 'master', 'master.key'), 'utf8'),
  ]);
  return { ca, cert, key };
}

/**
 * `GET path` over mutual TLS with Node's own https (verifying the server against the CA,
 * presenting `identity`): the test's independent view of an updater, e.g. the full /health
 * body with `lastSelfUpdate` and the agent's PID, which the CLI does not print.
 */
export function mtlsGet(
  identity: TlsIdentity,
  port: number,
  path: string,
  timeoutMs = 3000,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', ...identity, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on port ${port} took over ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
