import { Header } from 'tar/header';

/**
 * The one modification time every packed entry carries: 2000-01-01T00:00:00Z. A fixed
 * time (rather than the files' own) is what makes `swarm pack` reproducible; not 0, so
 * tools that treat the epoch as "no date" still show something sensible.
 */
export const PACK_MTIME = new Date('2000-01-01T00:00:00Z');

/** An entry as `swarm pack` records it. */
export interface PackEntry {
  /** Relative POSIX path, no trailing slash. */
  path: string;
  kind: 'directory' | 'file' | 'symlink';
  /** Normalized mode (see packedMode). */
  mode: number;
  /** Bytes of content (files only; 0 otherwise). */
  size: number;
  /** Symlink target, as read from the link. */
  target?: string;
}

/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(1024);

const TYPE = { directory: 'Directory', file: 'File', symlink: 'SymbolicLink' } as const;
/** Largest size an ustar header holds in octal; bigger files get a PAX `size` record. */
const MAX_USTAR_SIZE = 0o77777777777;

/**
 * The header block(s) of one entry: ustar, owner 0:0 without names, fixed mtime, no
 * atime/ctime, no device numbers. A PAX extended header is added only when the ustar
 * fields cannot hold the path, the target or the size (long or non-ASCII names); its own
 * header is fixed too (name `././@PaxHeader`), unlike GNU tar's, which embeds a PID.
 */
export function headerBlocks(entry: PackEntry): Buffer {
  const path = entry.kind === 'directory' ? `${entry.path}/` : entry.path;
  const block = Buffer.alloc(512);
  const needPax = new Header({
    path,
    mode: entry.mode,
    uid: 0,
    gid: 0,
    size: entry.kind === 'file' ? entry.size : 0,
    mtime: PACK_MTIME,
    type: TYPE[entry.kind],
    linkpath: entry.target ?? '',
    uname: '',
    gname: '',
    devmaj: 0,
    devmin: 0,
  }).encode(block);
  if (!needPax) return block;
  let records = paxRecord('path', path);
  if (entry.target !== undefined) records += paxRecord('linkpath', entry.target);
  if (entry.size > MAX_USTAR_SIZE) records += paxRecord('size', String(entry.size));
  return Buffer.concat([paxHeader(records), block]);
}

/** Zero bytes that pad `size` bytes of content to the next 512-byte block. */
export function padding(size: number): Buffer {
  const rest = size % 512;
  return Buffer.alloc(rest === 0 ? 0 : 512 - rest);
}

function paxHeader(records: string): Buffer {
  const body = Buffer.from(records, 'utf8');
  const out = Buffer.alloc(512 + body.length + padding(body.length).length);
  new Header({
    path: '././@PaxHeader',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: PACK_MTIME,
    type: 'ExtendedHeader',
    linkpath: '',
    uname: '',
    gname: '',
    devmaj: 0,
    devmin: 0,
  }).encode(out);
  body.copy(out, 512);
  return out;
}

/** `<length> <key>=<value>\n`, where the length counts its own digits (POSIX pax). */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return `${length}${rest}`;
}
