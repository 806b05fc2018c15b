import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import { DROPPED_CODES, SILENCE_CODES, UNREACHABLE_CODES } from '@swarm/http';
import type { TargetDetails } from './target.js';

/**
 * Translating what Node, OpenSSL and undici throw into swarm errors an operator can act on.
 * Where an error happened decides what it means, so there are two translators: one for the
 * connector (nothing has been sent yet: dialling, TLS handshake, pin, acceptance of our
 * certificate) and one for the request that runs on an accepted connection.
 */

// OpenSSL verification results (Node puts them in `err.code`) that mean the server's
// certificate does not chain to this master's CA.
const NOT_OUR_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
]);

// Other reasons our side refuses the server's certificate.
const IDENTITY_PROBLEM: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet (check the clocks of both machines)',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'has an invalid validity period',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'has an invalid validity period',
  INVALID_PURPOSE: 'is not a server certificate',
  CERT_REVOKED: 'is revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'is not issued for the address swarm dialled',
  HOSTNAME_MISMATCH: 'is not issued for the address swarm dialled',
};

// A dropped connection during the handshake is the worker refusing our certificate (TLS 1.2
// fails inside the handshake; TLS 1.3 right after it, see the connector).
const UNREACHABLE = UNREACHABLE_CODES;
const DROPPED = DROPPED_CODES;

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
}

function where(details: TargetDetails): string {
  return `host ${details.host} (${details.address}:${details.port})`;
}

/** Translate a failure to set up a connection: nothing has been sent on it. */
export function connectError(err: unknown, details: TargetDetails): SwarmError {
  if (isSwarmError(err)) return withDetails(err, details);
  const code = codeOf(err);
  const reason = messageOf(err);
  const facts = { ...details, reason: code || reason };
  if (UNREACHABLE.has(code)) {
    return swarmError('SWARM_ERR_CLIENT_UNREACHABLE', `${where(details)} did not answer: ${reason}`, facts, {
      cause: err,
    });
  }
  if (NOT_OUR_CA.has(code)) {
    return swarmError(
      'SWARM_ERR_CLIENT_PIN_MISMATCH',
      `the certificate of ${where(details)} is not from this master's CA (${code}): something other than the enrolled updater answered`,
      facts,
      { cause: err },
    );
  }
  const problem = IDENTITY_PROBLEM[code];
  if (problem !== undefined) {
    return swarmError(
      'SWARM_ERR_CLIENT_PIN_MISMATCH',
      `the certificate of ${where(details)} ${problem} (${reason})`,
      facts,
      {
        cause: err,
      },
    );
  }
  if (DROPPED.has(code) || /^ERR_SSL_.*ALERT/.test(code)) {
    return certificateRejected(details, reason, err);
  }
  if (code.startsWith('ERR_SSL_')) {
    return swarmError(
      'SWARM_ERR_CLIENT_BAD_RESPONSE',
      `${where(details)} does not speak TLS as an updater does: ${reason}`,
      facts,
      { cause: err },
    );
  }
  return swarmError('SWARM_ERR_CLIENT_UNREACHABLE', `cannot connect to ${where(details)}: ${reason}`, facts, {
    cause: err,
  });
}

/** The worker closed or alerted the connection instead of accepting our certificate. */
export function certificateRejected(details: TargetDetails, reason: string, cause?: unknown): SwarmError {
  return swarmError(
    'SWARM_ERR_CLIENT_CERT_REJECTED',
    `the worker rejected our certificate: ${where(details)} closed the TLS connection (${reason})`,
    { ...details, reason },
    cause === undefined ? {} : { cause },
  );
}

/** What the request knew when it failed. */
export interface RequestContext {
  readonly details: TargetDetails;
  /** What was being done, for messages: `GET /health`, `POST /update`… */
  readonly action: string;
  /** The headers/body timeout in force. */
  readonly timeoutMs: number;
  /** True once the whole request body was handed to the connection. */
  readonly bodySent: boolean;
  /** The caller's signal. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Translate a failure of a request on an accepted connection. Errors we do not know are
 * returned unchanged: they are bugs, and disguising them as network trouble would hide them.
 */
export function requestError(err: unknown, ctx: RequestContext): unknown {
  const { details, action } = ctx;
  if (ctx.signal?.aborted) return interrupted(ctx, err);
  if (isSwarmError(err)) return withDetails(err, details);
  const code = codeOf(err);
  const reason = messageOf(err);
  const facts = { ...details, reason: code || reason, bodySent: ctx.bodySent };
  const maybeApplied =
    ctx.bodySent && action.startsWith('POST')
      ? '; the host may still complete the operation — check `swarm status`'
      : '';
  if (SILENCE_CODES.has(code)) {
    return swarmError(
      'SWARM_ERR_CLIENT_TIMEOUT',
      `${where(details)} did not answer ${action} within ${ctx.timeoutMs} ms${maybeApplied}`,
      { ...facts, timeoutMs: ctx.timeoutMs },
      { cause: err },
    );
  }
  if (DROPPED.has(code)) {
    return swarmError(
      'SWARM_ERR_CLIENT_CONNECTION_LOST',
      `the connection to ${where(details)} broke during ${action} (${reason})${maybeApplied}`,
      facts,
      { cause: err },
    );
  }
  if (
    code.startsWith('HPE_') ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_HEADERS_OVERFLOW'
  ) {
    return swarmError(
      'SWARM_ERR_CLIENT_BAD_RESPONSE',
      `${where(details)} answered ${action} with malformed HTTP: ${reason}`,
      facts,
      {
        cause: err,
      },
    );
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return swarmError(
      'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
      `the tarball changed while it was being sent to ${where(details)}: pack it again`,
      facts,
      { cause: err },
    );
  }
  return err;
}

/**
 * The caller aborted. Reported as SWARM_ERR_ROLLOUT_INTERRUPTED (the client's only caller
 * that aborts is an interrupted rollout or status run); the message says whether the host
 * may still apply what it received.
 */
export function interrupted(ctx: Pick<RequestContext, 'details' | 'action' | 'bodySent'>, cause?: unknown): SwarmError {
  const { details, action } = ctx;
  let state = '';
  if (action.startsWith('POST')) {
    state = ctx.bodySent
      ? ' after the request was sent: the host may still complete it — check `swarm status`'
      : ' before the upload was complete: the host discards it';
  }
  return swarmError(
    'SWARM_ERR_ROLLOUT_INTERRUPTED',
    `${action} to ${where(details)} was interrupted${state}`,
    { ...details, bodySent: ctx.bodySent },
    cause === undefined ? {} : { cause },
  );
}

/** Add where it happened to an error's details; what the updater said takes precedence. */
export function withDetails<E extends SwarmError>(err: E, details: TargetDetails): E {
  err.details = { ...details, ...err.details };
  return err;
}
