import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** A part of a multipart body: a field, or a file from a path or from memory. */
export type Part =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly filename: string; readonly path: string }
  | { readonly name: string; readonly filename: string; readonly data: Buffer };

/** A streamed multipart/form-data body. */
export interface MultipartBody {
  readonly contentType: string;
  readonly length: number;
  readonly stream: Readable;
}

/**
 * Write `parts` as multipart/form-data, streaming files from disk: the tests' client side,
 * able to produce bodies a well-behaved client would not (field order, duplicates, odd names).
 */
export async function multipart(
  parts: readonly Part[],
  boundary = `----swarm${randomBytes(8).toString('hex')}`,
): Promise<MultipartBody> {
  const pieces: (Buffer | { path: string })[] = [];
  let length = 0;
  const add = (piece: Buffer | { path: string }, size: number) => {
    pieces.push(piece);
    length += size;
  };
  for (const part of parts) {
    if ('value' in part) {
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`,
      );
      add(head, head.length);
      continue;
    }
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/gzip\r\n\r\n`,
    );
    add(head, head.length);
    if ('data' in part) add(part.data, part.data.length);
    else add({ path: part.path }, (await stat(part.path)).size);
    add(Buffer.from('\r\n'), 2);
  }
  const tail = Buffer.from(`--${boundary}--\r\n`);
  add(tail, tail.length);
  async function* generate() {
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece)) yield piece;
      else yield* createReadStream(piece.path);
    }
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, stream: Readable.from(generate()) };
}
