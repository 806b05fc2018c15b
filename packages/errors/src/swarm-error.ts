import createError from '@fastify/error';
import { catalogue, isErrorCode, type ErrorCode } from './catalogue.js';

/** Extra, JSON-safe facts that travel with an error (phase, active release, problems…). */
export type ErrorDetails = Record<string, unknown>;

/**
 * An error from the catalogue. It is a @fastify/error, so fastify answers with its
 * `statusCode`; the updater's error handler adds `details` to the body.
 */
export interface SwarmError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Exit code of a CLI command that ends with this error. */
  readonly exitCode: 1 | 2;
  /** What the operator should do, from the catalogue. */
  readonly remedy: string;
  details: ErrorDetails;
}

type Constructor = new (message: string) => Error & { code: string; statusCode: number };

// One @fastify/error constructor per code, built once from the catalogue.
const constructors = new Map<ErrorCode, Constructor>(
  (Object.keys(catalogue) as ErrorCode[]).map((code) => [
    code,
    createError(code, '%s', catalogue[code].status) as unknown as Constructor,
  ]),
);

/** Build the error `code`, with an optional specific message and details. */
export function swarmError(
  code: ErrorCode,
  message?: string,
  details: ErrorDetails = {},
  options: { cause?: unknown } = {},
): SwarmError {
  const spec = catalogue[code];
  const Ctor = constructors.get(code)!;
  const err = new Ctor(message ?? spec.message) as unknown as Error & Record<string, unknown>;
  if (options.cause !== undefined) err.cause = options.cause;
  err.exitCode = spec.exit;
  err.remedy = spec.remedy;
  err.details = details;
  return err as unknown as SwarmError;
}

/** True for errors built by {@link swarmError} (or revived from the wire). */
export function isSwarmError(err: unknown): err is SwarmError {
  return err instanceof Error && isErrorCode((err as { code?: unknown }).code) && 'details' in err;
}

/** True when `err` is a swarm error with that code. Match on codes, never on classes. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return isSwarmError(err) && err.code === code;
}

/** The wire form of an error: `{ code, message, ...details }`. */
export function errorBody(err: SwarmError): { code: ErrorCode; message: string } & ErrorDetails {
  return { ...err.details, code: err.code, message: err.message };
}

/**
 * Revive an error body received over the wire. Unknown codes or shapes become
 * SWARM_ERR_CLIENT_BAD_RESPONSE carrying what was received, never a crash.
 */
export function reviveError(body: unknown, status?: number): SwarmError {
  if (body !== null && typeof body === 'object') {
    const { code, message, ...details } = body as Record<string, unknown>;
    if (isErrorCode(code)) {
      return swarmError(code, typeof message === 'string' ? message : undefined, details);
    }
  }
  const shown = typeof body === 'string' ? body : JSON.stringify(body);
  return swarmError(
    'SWARM_ERR_CLIENT_BAD_RESPONSE',
    `the worker answered ${status ?? 'an error'} with an unexpected body: ${String(shown).slice(0, 200)}`,
    { status, body },
  );
}
