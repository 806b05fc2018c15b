import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';

/** A release to upload: the file and what the updater must verify it against. */
export interface UploadSource {
  /** Path of the gzipped release tarball. */
  readonly file: string;
  /** Its SHA-256, 64 lowercase hex digits (as printed by `swarm pack`). */
  readonly sha256: string;
  /** Its size in bytes; must equal the file's size (the updater checks it too). */
  readonly size: number;
}

/** A multipart/form-data body that is streamed from the file, never held in memory. */
export interface MultipartUpload {
  readonly contentType: string;
  /** Exact length of the body, sent as `content-length` so the updater can refuse it early. */
  readonly contentLength: number;
  /** A fresh body each call: a retried upload re-opens the file. */
  body(onProgress?: (bytesSent: number) => void): AsyncIterable<Uint8Array>;
  /** True once the whole tarball of the latest body was handed to the connection. */
  readonly complete: boolean;
}

/** File name announced for the tarball part (the updater does not use it). */
export const TARBALL_FILENAME = 'release.tgz';
const SHA256 = /^[0-9a-f]{64}$/;
/**
 * File read size. Reads of 64 KiB (fs's default) left both ends idle most of an upload,
 * waiting on each other's small steps; half a megabyte per read keeps the socket fed and
 * memory at a few chunks.
 */
const READ_CHUNK_BYTES = 512 * 1024;

/**
 * Check an upload source locally — digest shape, declared size against the file — so that a
 * bad call fails before any host is contacted.
 */
export async function checkUploadSource(source: UploadSource): Promise<void> {
  if (typeof source.sha256 !== 'string' || !SHA256.test(source.sha256)) {
    throw swarmError(
      'SWARM_ERR_UPLOAD_DIGEST_INVALID',
      `"${String(source.sha256).slice(0, 80)}" is not a SHA-256 digest (64 lowercase hex digits)`,
    );
  }
  if (!Number.isSafeInteger(source.size) || source.size < 0) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `the tarball size must be a whole number of bytes, not ${String(source.size)}`,
    );
  }
  let actual: number;
  try {
    const info = await stat(source.file);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    actual = info.size;
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `cannot read the tarball ${source.file}: ${(err as Error).message}`,
      { file: source.file },
      { cause: err },
    );
  }
  if (actual !== source.size) {
    throw swarmError(
      'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
      `the tarball ${source.file} has ${actual} bytes, not the declared ${source.size}: pack it again`,
      { file: source.file, size: actual, declared: source.size },
    );
  }
}

/**
 * The updater's upload body (wiki/reference/updater-api.md): field `sha256`, field `size`, then the file part
 * `tarball` (application/gzip). The framing is written around a read stream of the file, so
 * memory stays at a few chunks whatever the release size, and the length is known up front.
 * undici writes an async iterable with backpressure: the next chunk is read only once the
 * socket took the previous one, which is also what `onProgress` reports.
 */
export function multipartUpload(source: UploadSource): MultipartUpload {
  const boundary = `----swarm-${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(
    [
      `--${boundary}`,
      'Content-Disposition: form-data; name="sha256"',
      '',
      source.sha256,
      `--${boundary}`,
      'Content-Disposition: form-data; name="size"',
      '',
      String(source.size),
      `--${boundary}`,
      `Content-Disposition: form-data; name="tarball"; filename="${TARBALL_FILENAME}"`,
      'Content-Type: application/gzip',
      '',
      '',
    ].join('\r\n'),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  let complete = false;

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: head.length + source.size + tail.length,
    get complete() {
      return complete;
    },
    async *body(onProgress) {
      complete = false;
      yield head;
      let sent = 0;
      if (source.size > 0) {
        // `end` is inclusive: read exactly the declared bytes even if the file grew since.
        const stream = createReadStream(source.file, {
          start: 0,
          end: source.size - 1,
          highWaterMark: READ_CHUNK_BYTES,
        });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            yield chunk;
            sent += chunk.length;
            onProgress?.(sent);
          }
        } finally {
          stream.destroy();
        }
      }
      if (sent !== source.size) {
        throw swarmError(
          'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
          `the tarball ${source.file} shrank to ${sent} bytes while it was being sent: pack it again`,
          { file: source.file, size: sent, declared: source.size },
        );
      }
      // From here on the updater may hold the whole release: count it as sent (a timeout or an
      // abort past this point must not be reported as "nothing happened").
      complete = true;
      yield tail;
    },
  };
}
