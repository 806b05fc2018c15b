import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

/** One entry of a hand-made tar: `0` file, `2` symlink, `5` directory, `1` hard link. */
export interface RawEntry {
  readonly name: string;
  readonly type?: '0' | '1' | '2' | '5';
  readonly content?: string;
  readonly linkname?: string;
  readonly mode?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/**
 * One 512-byte ustar header. `size` is the declared size of a file (its content's length
 * unless given: a streamed body follows it, see {@link rawTar}).
 */
export function tarHeader(entry: RawEntry & { readonly size?: number }): Buffer {
  const type = entry.type ?? '0';
  const header = Buffer.alloc(512);
  header.write(entry.name, 0, 100, 'utf8');
  header.write(octal(entry.mode ?? (type === '5' ? 0o755 : 0o644), 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(type === '0' ? (entry.size ?? Buffer.byteLength(entry.content ?? '')) : 0, 12), 124, 'ascii');
  header.write(octal(946_684_800, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write(type, 156, 'ascii');
  header.write(entry.linkname ?? '', 157, 100, 'utf8');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** The (uncompressed) ustar stream of `entries`, ended by two zero blocks unless `eof` is false. */
export function rawTar(entries: readonly RawEntry[], options: { eof?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    blocks.push(tarHeader(entry));
    if ((entry.type ?? '0') === '0' && content.length > 0) {
      blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
  }
  if (options.eof !== false) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * Build a gzipped ustar archive byte by byte — no tar library, so the tests can write what no
 * well-behaved packer would (escaping paths, links out of the tree, setuid modes, bad manifests).
 */
export function rawTarball(entries: readonly RawEntry[]): Buffer {
  return gzipSync(rawTar(entries));
}

/** Write a raw tarball to `path`; returns its sha256 and size, like packRelease. */
export async function writeRawTarball(
  path: string,
  entries: readonly RawEntry[],
): Promise<{ file: string; sha256: string; size: number }> {
  const data = rawTarball(entries);
  await writeFile(path, data);
  return { file: path, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

/** A valid release.json for raw tarballs. */
export const RAW_MANIFEST = JSON.stringify({ name: 'web', version: '6.6.6', start: ['node', 'agent.mjs'] });
