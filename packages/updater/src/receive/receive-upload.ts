import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';
import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';

/** What the client declared about its upload. */
export interface DeclaredUpload {
  /** Lowercase hex SHA-256 the tarball must have. */
  readonly sha256: string;
  /** Byte size the tarball must have, when the client sent `size`. */
  readonly size: number | null;
}

/** An upload on disk, hashed in the same pass that wrote it. Not yet verified. */
export interface ReceivedUpload {
  readonly declared: DeclaredUpload;
  /** SHA-256 of the bytes actually received. */
  readonly sha256: string;
  readonly bytes: number;
  /** Where the bytes are (`releases/.staging-<op>/release.tgz`). */
  readonly file: string;
}

/** Receives the tarball of a request into `file`; what the lifecycle's receive step calls. */
export type UploadReceiver = (file: string, signal: AbortSignal) => Promise<ReceivedUpload>;

/** Options of {@link receiveUpload}. */
export interface ReceiveOptions {
  /** The upload cap (the multipart `fileSize` limit is the same number). */
  readonly maxUploadBytes: number;
  /** An upload that sends nothing (no part, no file bytes) for this long is cut. */
  readonly idleTimeoutMs: number;
  /** Called once, when the first bytes of the tarball are on their way to disk. */
  readonly onFirstBytes?: () => void;
}

/** The one multipart field carrying the release. */
export const FILE_FIELD = 'tarball';

const SHA256_PATTERN = /^[0-9a-f]{64}$/i;

/**
 * Stream the multipart upload of `req` (wiki/reference/updater-api.md: field `sha256`, optional `size`, then the
 * file part `tarball`) to `file` while hashing it — one pass over the bytes, memory bounded by
 * stream backpressure, whatever the size. Enforces the field rules (digest first, no unknown
 * or repeated fields, one file, nothing after it) and the caps; a file over the cap aborts the
 * transfer at once (SWARM_ERR_UPLOAD_TOO_LARGE) instead of letting @fastify/multipart truncate
 * it silently (wiki/reference/platform-facts.md). The whole body is read before this resolves, so trailing garbage is
 * refused too. Nothing here trusts the bytes: verification is the next step.
 */
export async function receiveUpload(
  req: FastifyRequest,
  file: string,
  signal: AbortSignal,
  options: ReceiveOptions,
): Promise<ReceivedUpload> {
  // On a deadline or shutdown, cut the request: the parts iterator then fails promptly.
  const onAbort = () => req.raw.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  // A client that stops sending (slow loris, dead link) is cut after idleTimeoutMs.
  let idle = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idle = true;
      req.raw.destroy();
    }, options.idleTimeoutMs);
    idleTimer.unref();
  };
  touch();
  // A connection that closes before its body is complete must end the receive at once. The
  // parts iterator only notices a close that happens while it reads: one that happened
  // earlier (the client or a proxy cut the link while the operation was being opened, a few
  // ms of journal fsync) would leave it waiting until the receive deadline, and the runner
  // busy meanwhile. (Found by test/reliability/network-faults.test.ts.)
  let onClose = () => undefined as void;
  const closedEarly = new Promise<never>((_, reject) => {
    onClose = () => {
      if (!req.raw.complete)
        reject(swarmError('SWARM_ERR_UPLOAD_INCOMPLETE', 'the connection closed during the upload'));
    };
  });
  closedEarly.catch(() => undefined);
  if (req.raw.destroyed) onClose();
  else req.raw.once('close', onClose);
  const readParts = async () => {
    let sha256: string | null = null;
    let size: number | null = null;
    let received: { sha256: string; bytes: number } | null = null;
    for await (const part of req.parts()) {
      touch();
      if (part.type === 'field') {
        if (received) throw malformed(`field "${part.fieldname}" after the ${FILE_FIELD} part`);
        if (part.fieldnameTruncated || part.valueTruncated) throw malformed(`field "${part.fieldname}" is too long`);
        const value = String(part.value).trim();
        if (part.fieldname === 'sha256') {
          if (sha256 !== null) throw malformed('the sha256 field appears twice');
          if (!SHA256_PATTERN.test(value))
            throw swarmError('SWARM_ERR_UPLOAD_DIGEST_INVALID', undefined, { got: value.slice(0, 80) });
          sha256 = value.toLowerCase();
        } else if (part.fieldname === 'size') {
          if (size !== null) throw malformed('the size field appears twice');
          if (!/^\d{1,16}$/.test(value))
            throw malformed(`the size field must be a byte count (got "${value.slice(0, 40)}")`);
          size = Number(value);
          if (size > options.maxUploadBytes)
            throw tooLarge(options.maxUploadBytes, `the declared size ${size} exceeds`);
        } else {
          throw malformed(`unexpected field "${part.fieldname}" (expected sha256, size, then ${FILE_FIELD})`);
        }
        continue;
      }
      if (part.fieldname !== FILE_FIELD)
        throw malformed(`unexpected file part "${part.fieldname}" (expected ${FILE_FIELD})`);
      if (received) throw malformed(`more than one ${FILE_FIELD} part`);
      if (sha256 === null) throw swarmError('SWARM_ERR_UPLOAD_DIGEST_MISSING');
      received = await writeHashed(part.file, file, size, options, signal, touch);
    }
    return { sha256, size, received };
  };
  let parts: Awaited<ReturnType<typeof readParts>>;
  try {
    const reading = readParts();
    reading.catch(() => undefined);
    parts = await Promise.race([reading, closedEarly]);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (idle)
      throw swarmError('SWARM_ERR_UPLOAD_INCOMPLETE', `the client sent nothing for ${options.idleTimeoutMs} ms`);
    throw asUploadError(err, options.maxUploadBytes);
  } finally {
    clearTimeout(idleTimer);
    signal.removeEventListener('abort', onAbort);
    req.raw.off('close', onClose);
  }
  const { sha256, size, received } = parts;
  if (!received) {
    throw sha256 === null ? swarmError('SWARM_ERR_UPLOAD_DIGEST_MISSING') : swarmError('SWARM_ERR_UPLOAD_FILE_MISSING');
  }
  return { declared: { sha256: sha256!, size }, sha256: received.sha256, bytes: received.bytes, file };
}

/**
 * What the staging file may buffer before the socket is paused (fs's default is 16 KiB).
 * With the default, the upload stalled on every few TLS records while a write was in flight;
 * a megabyte lets the disk take many records in one writev while the network keeps coming.
 */
const STAGING_BUFFER_BYTES = 1024 * 1024;

async function writeHashed(
  source: Readable & { truncated?: boolean },
  file: string,
  declaredSize: number | null,
  options: ReceiveOptions,
  signal: AbortSignal,
  touch: () => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  // busboy stops at the cap and emits 'limit'; the part would then just look short. Turn
  // that into an error that tears the transfer down.
  source.once('limit', () => source.destroy(tooLarge(options.maxUploadBytes, 'the tarball exceeds')));
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (bytes === 0) options.onFirstBytes?.();
      touch();
      bytes += chunk.length;
      if (declaredSize !== null && bytes > declaredSize) {
        callback(sizeMismatch(declaredSize, `more than ${declaredSize}`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  const sink = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: STAGING_BUFFER_BYTES });
  await pipeline(source, meter, sink, { signal });
  if (source.truncated) throw tooLarge(options.maxUploadBytes, 'the tarball exceeds');
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * The verify step: the received bytes must be exactly what the client declared. Only after
 * this passes is anything extracted, installed or run (wiki/reference/guarantees.md#nothing-unverified-runs).
 */
export function verifyUpload(upload: ReceivedUpload): void {
  if (upload.declared.size !== null && upload.bytes !== upload.declared.size) {
    throw sizeMismatch(upload.declared.size, String(upload.bytes));
  }
  if (upload.sha256 !== upload.declared.sha256) {
    throw swarmError(
      'SWARM_ERR_UPLOAD_DIGEST_MISMATCH',
      `the tarball's sha256 is ${upload.sha256}, the declared one ${upload.declared.sha256}`,
      {
        expected: upload.declared.sha256,
        actual: upload.sha256,
      },
    );
  }
}

function malformed(message: string): SwarmError {
  return swarmError('SWARM_ERR_UPLOAD_MALFORMED', `malformed upload: ${message}`);
}

function tooLarge(cap: number, what: string): SwarmError {
  return swarmError('SWARM_ERR_UPLOAD_TOO_LARGE', `${what} the upload cap of ${cap} bytes`, { maxUploadBytes: cap });
}

function sizeMismatch(declared: number, got: string): SwarmError {
  return swarmError('SWARM_ERR_UPLOAD_SIZE_MISMATCH', `received ${got} bytes, the declared size is ${declared}`, {
    declared,
  });
}

/** Map @fastify/multipart and busboy failures to our upload codes. */
export function asUploadError(err: unknown, cap: number): SwarmError {
  if (isSwarmError(err)) return err;
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(cap, 'the tarball exceeds');
    case 'FST_FILES_LIMIT':
      return malformed(`more than one file part (only ${FILE_FIELD})`);
    case 'FST_FIELDS_LIMIT':
      return malformed('too many fields (expected sha256 and size)');
    case 'FST_PARTS_LIMIT':
      return malformed('too many parts');
    case 'FST_PROTO_VIOLATION':
      return malformed('a field name that is an Object.prototype property (e.g. __proto__)');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return malformed('a field declared as JSON is not JSON');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return swarmError('SWARM_ERR_UPLOAD_NOT_MULTIPART');
    case 'FST_MP_PREMATURE_CLOSE':
    case 'ECONNRESET':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return swarmError('SWARM_ERR_UPLOAD_INCOMPLETE');
    default:
      break;
  }
  const message = e.message ?? String(err);
  if (/Unexpected end|terminated early|aborted/i.test(message))
    return swarmError('SWARM_ERR_UPLOAD_INCOMPLETE', `the upload ended early: ${message}`);
  if (/boundary|malformed|header/i.test(message)) return malformed(message);
  return swarmError('SWARM_ERR_UPDATER_INTERNAL', `receiving the upload failed: ${message}`, {}, { cause: err });
}
