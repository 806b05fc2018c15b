/**
 * The error codes Node and undici give a request that got no answer, in two kinds, so that
 * each client translates them the same way: the host could not be reached (nothing was sent),
 * or the connection broke or went silent once it was up.
 */

/** The host could not be reached at all: nothing was sent, another attempt later is safe. */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The peer dropped an established connection (or refused the TLS handshake by closing it). */
export const DROPPED_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** The peer went silent: no headers, or no body bytes, within the timeout. */
export const SILENCE_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The first `code` on an error or its chain of causes (undici wraps socket errors), skipping
 * undici's generic retry wrapper; `''` when there is none.
 */
export function errorCode(err: unknown): string {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== null && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_REQ_RETRY') return code;
  }
  return '';
}
