/**
 * Hand-built tar archives for the hostile-archive tests: 512-byte ustar headers with a
 * correct checksum and whatever fields the test wants, including entries no packer would
 * ever produce (absolute paths, `..`, devices, hard links, setuid modes, PAX and GNU
 * long-name overrides). Nothing here validates anything, on purpose.
 */
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  /** Raw name field (up to 100 bytes; longer is cut, as a real header would). */
  name: string;
  /** Typeflag: '0' file (default), '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' FIFO, 'x' PAX, 'g' global PAX, 'L' GNU long name, 'K' GNU long link. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Content; the size field is its length unless `size` says otherwise. */
  body?: Buffer | string;
  /** Declared size, when it must differ from the body (a lying header). */
  size?: number;
  /** The 12 raw bytes of the size field (base-256, negative, garbage…), overriding `size`. */
  sizeField?: Buffer;
  linkname?: string;
  /** ustar prefix field (up to 155 bytes). */
  prefix?: string;
  uname?: string;
  gname?: string;
  /** Corrupt the checksum. */
  badChecksum?: boolean;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, length, 'utf8');
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  field(buf, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** One 512-byte ustar header. */
export function header(entry: RawEntry): Buffer {
  const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
  const buf = Buffer.alloc(512);
  field(buf, 0, 100, entry.name);
  octal(buf, 100, 8, entry.mode ?? 0o644);
  octal(buf, 108, 8, entry.uid ?? 0);
  octal(buf, 116, 8, entry.gid ?? 0);
  if (entry.sizeField) entry.sizeField.copy(buf, 124, 0, 12);
  else octal(buf, 124, 12, entry.size ?? body.length);
  octal(buf, 136, 12, 946684800);
  buf.fill(' ', 148, 156);
  field(buf, 156, 1, entry.type ?? '0');
  field(buf, 157, 100, entry.linkname ?? '');
  field(buf, 257, 8, 'ustar\u000000');
  field(buf, 265, 32, entry.uname ?? '');
  field(buf, 297, 32, entry.gname ?? '');
  octal(buf, 329, 8, 0);
  octal(buf, 337, 8, 0);
  field(buf, 345, 155, entry.prefix ?? '');
  let sum = 0;
  for (const byte of buf) sum += byte;
  if (entry.badChecksum) sum += 1;
  field(buf, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return buf;
}

function pad(length: number): Buffer {
  return Buffer.alloc((512 - (length % 512)) % 512);
}

/** Header, body and padding of one entry. */
export function entryBlocks(entry: RawEntry): Buffer {
  const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
  return Buffer.concat([header(entry), body, pad(body.length)]);
}

/** A tar stream of `entries`, ended by the two zero blocks unless `eof` is false. */
export function tar(entries: RawEntry[], options: { eof?: boolean } = {}): Buffer {
  const parts = entries.map(entryBlocks);
  if (options.eof !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A gzipped tar of `entries`. */
export function tgz(entries: RawEntry[], options: { eof?: boolean } = {}): Buffer {
  return gzipSync(tar(entries, options));
}

/** A PAX extended header (`global` for typeflag 'g') carrying `records`. */
export function pax(records: Record<string, string>, global = false): RawEntry {
  let body = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    const restBytes = Buffer.byteLength(rest);
    let length = restBytes + 1;
    while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
    body += `${length}${rest}`;
  }
  return { name: global ? 'pax_global_header' : 'PaxHeader/x', type: global ? 'g' : 'x', body };
}

/** A GNU `././@LongLink` entry giving the next entry's name (`L`) or link target (`K`). */
export function gnuLong(value: string, type: 'L' | 'K' = 'L'): RawEntry {
  return { name: '././@LongLink', type, body: `${value}\0` };
}

/** A minimal valid release.json entry. */
export function manifestEntry(manifest: object = { name: 'app', version: '1.0.0', start: ['node', 'x.js'] }): RawEntry {
  return { name: 'release.json', body: JSON.stringify(manifest) };
}
