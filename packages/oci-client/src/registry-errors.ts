import { swarmError, type ErrorCode, type SwarmError } from '@swarm/errors';
import { DROPPED_CODES, SILENCE_CODES, UNREACHABLE_CODES, errorCode } from '@swarm/http';

/** Where a registry failure happened: which registry, doing what, and what it answered. */
export interface FailureContext {
  readonly registry: string;
  /** What the client was doing, in words (`GET manifest sha256:…`, `upload blob sha256:…`). */
  readonly action: string;
  /** The host that failed when it is not the registry (a token realm, a blob store). */
  readonly host?: string;
  readonly status?: number;
  readonly attempts?: number;
}

/** A coded registry failure: `<registry>: <action>: <why>`, with the context as details. */
export function registryFailure(code: ErrorCode, ctx: FailureContext, why: string): SwarmError {
  return swarmError(code, `${ctx.registry}: ${ctx.action}: ${why}`, { ...ctx });
}

// Connection-level failures: nothing useful was answered, another attempt may work.
const RETRYABLE = (code: string): boolean =>
  UNREACHABLE_CODES.has(code) || DROPPED_CODES.has(code) || SILENCE_CODES.has(code) || code === 'UND_ERR_CLOSED';

/**
 * What undici or Node threw, as a registry failure. An abort by the caller is rethrown as the
 * caller's reason; a certificate the client does not trust is not retried (`--registry-ca`);
 * a connection that failed or went silent is `retryable`.
 */
export function transportFailure(err: unknown, ctx: FailureContext, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const host = ctx.host ?? ctx.registry;
  if (/CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|HOSTNAME_MISMATCH/.test(code)) {
    return swarmError(
      'SWARM_ERR_REGISTRY_UNREACHABLE',
      `${ctx.registry}: ${ctx.action}: the TLS certificate of ${host} is not trusted (${code}); give its CA with --registry-ca`,
      { ...ctx, cause: code, retryable: false },
    );
  }
  return swarmError('SWARM_ERR_REGISTRY_UNREACHABLE', `${ctx.registry}: ${ctx.action}: ${host}: ${message}`, {
    ...ctx,
    cause: code || message,
    retryable: RETRYABLE(code),
  });
}
