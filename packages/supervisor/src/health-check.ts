import { request } from 'node:https';

/** How the supervisor reaches its updater's `GET /health` (any certificate of the CA works). */
export interface HealthEndpoint {
  readonly host: string;
  readonly port: number;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** One `GET /health`: the reported version, or the reason there is none. */
export function fetchVersion(
  endpoint: HealthEndpoint,
  timeoutMs: number,
): Promise<{ version: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path: '/health',
        method: 'GET',
        ca: endpoint.caPem,
        cert: endpoint.certPem,
        key: endpoint.keyPem,
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve({ error: `GET /health answered ${res.statusCode}` });
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version?: unknown };
            resolve(
              typeof body.version === 'string'
                ? { version: body.version }
                : { error: 'GET /health reported no version' },
            );
          } catch {
            resolve({ error: 'GET /health answered something other than JSON' });
          }
        });
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET /health took over ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/**
 * Poll `GET /health` until it reports `version`, the deadline passes, or `stop` resolves
 * (the process died). Returns null on success, else the last reason.
 */
export async function waitForVersion(
  endpoint: HealthEndpoint,
  version: string,
  deadlineMs: number,
  stop: Promise<unknown>,
): Promise<string | null> {
  const deadline = Date.now() + deadlineMs;
  let stopped: string | null = null;
  void stop.then((why) => (stopped = `the new updater exited (${String(why)}) before answering /health`));
  let last = 'the new updater never answered /health';
  while (Date.now() < deadline) {
    if (stopped) return stopped;
    const result = await fetchVersion(endpoint, Math.min(2000, Math.max(100, deadline - Date.now())));
    if ('version' in result) {
      if (result.version === version) return null;
      last = `GET /health reported version ${result.version}, expected ${version}`;
    } else {
      last = result.error;
    }
    if (stopped) return stopped;
    await new Promise((r) => setTimeout(r, 200));
  }
  return `${last} (deadline ${deadlineMs} ms)`;
}
