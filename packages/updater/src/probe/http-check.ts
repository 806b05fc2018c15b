import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CheckResult, HealthCheck } from './check-result.js';

/** TLS material for https checks: verify the agent against the CA, present the updater's certificate. */
export interface ProbeTls {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * One TLS context per set of TLS material, built once: passing `ca`/`cert`/`key` to each
 * request makes Node parse the key and the CA again for every check (~10 ms of CPU here),
 * and a probe checks often while an agent starts.
 */
const contexts = new WeakMap<ProbeTls, SecureContext>();

function secureContextOf(tls: ProbeTls): SecureContext {
  let context = contexts.get(tls);
  if (!context) {
    context = createSecureContext({ ca: tls.caPem, cert: tls.certPem, key: tls.keyPem });
    contexts.set(tls, context);
  }
  return context;
}

/**
 * GET `url`: healthy on a 2xx answer whose JSON body, if it reports a `version`, reports the
 * expected one. An https URL is verified against the bundle CA (never skipped) and the
 * updater presents its own certificate, so an agent can require mTLS on /health.
 */
export function httpCheck(url: URL, expectedVersion: string, tls: ProbeTls): HealthCheck {
  return (timeoutMs, signal) =>
    new Promise<CheckResult>((resolve) => {
      const secure = url.protocol === 'https:';
      const options = {
        method: 'GET',
        timeout: timeoutMs,
        signal,
        agent: false as const,
        headers: { accept: 'application/json' },
        // Server verification stays on (the default): the context's CA is the only trust.
        ...(secure ? { secureContext: secureContextOf(tls) } : {}),
      };
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on('error', (err) => resolve({ ok: false, detail: `${url.href}: ${err.message}` }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8');
          if (status < 200 || status > 299) {
            resolve({ ok: false, detail: `${url.href} answered ${status}: ${body.slice(0, 200)}` });
            return;
          }
          const version = reportedVersion(body);
          if (version !== undefined && version !== expectedVersion) {
            resolve({
              ok: false,
              detail: `${url.href} reports version ${JSON.stringify(version)}, expected ${JSON.stringify(expectedVersion)}`,
            });
            return;
          }
          resolve({ ok: true, detail: `${url.href} answered ${status}` });
        });
      };
      const req = secure ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, detail: `${url.href}: ${err.message}` }));
      req.end();
    });
}

function reportedVersion(body: string): unknown {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed !== null && typeof parsed === 'object' && 'version' in parsed)
      return (parsed as { version: unknown }).version;
  } catch {
    // Not JSON: a plain "ok" body reports no version.
  }
  return undefined;
}
