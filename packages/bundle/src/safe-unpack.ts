import {
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { isSwarmError, swarmError, type SwarmError } from '@swarm/errors';
import { extractedMode, foldPath, normalizeEntryPath, symlinkTargetProblem } from './entry-policy.js';
import { TAR_OVERHEAD_PER_ENTRY, type ExtractLimits } from './extract-limits.js';

/**
 * Read and inflate sizes. Bounded reads keep memory flat whatever the archive holds (the
 * NOTES.md gzip bomb reached 1.1 GB RSS with node-tar's default read size). Inflating runs
 * on the libuv pool while this thread parses and writes; 256 KiB chunks and a few MiB of
 * read-ahead let the two overlap (measured: 64 KiB chunks without read-ahead were ~20%
 * slower on 5 000 files).
 */
const CHUNK_BYTES = 256 * 1024;
const INFLATE_AHEAD_BYTES = 4 * 1024 * 1024;
/** PAX and GNU long-name records longer than this are refused (a long path needs ~4 KiB). */
const MAX_META_ENTRY_BYTES = 64 * 1024;
/**
 * Data allowed after the end-of-archive marker: GNU tar pads to 10 KiB records. Past this
 * the stream is not a tarball any more but, typically, a gzip bomb of zeros.
 */
const MAX_TRAILING_BYTES = 1024 * 1024;

export interface UnpackOptions {
  /** The gzipped tarball. */
  tarballPath: string;
  /** An existing, empty directory; nothing is ever written outside it. */
  destDir: string;
  limits: ExtractLimits;
  /** The process umask: modes are fixed with fchmod only when it would narrow them. */
  umask: number;
  /** Polled between chunks; true stops the extraction with an AbortError. */
  shouldStop?: () => boolean;
}

export interface UnpackResult {
  /** Entries written (files, directories, symlinks). */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
}

type Kind = 'directory' | 'file' | 'symlink';

/**
 * Unpack a gzipped tarball into `destDir`, synchronously writing each entry as the stream
 * is parsed. It runs inside the extraction worker (see extract-worker.ts): the sync file
 * system calls are the fast path (NOTES.md: node-tar sync 1.9 s vs async 4.8 s for 20k
 * files) and the worker keeps them off the caller's event loop.
 *
 * node-tar only parses here (its `Parser`); every file system decision is ours, because its
 * extractor is fail-open by default and keeps writing after a strict-mode rejection.
 * INVARIANTS:
 * - every path is checked before anything is created for it;
 * - nothing is created below a symlink or a file: the map of what this archive created is
 *   authoritative (the directory started empty), and the parents of every entry must be
 *   directories in it, so a symlink extracted earlier can never redirect a later write;
 * - files are created with O_EXCL|O_NOFOLLOW, so a path that exists is never followed or
 *   overwritten (duplicate entries are refused);
 * - the first problem throws out of the parser synchronously; no write follows it.
 */
export async function unpackTarball(options: UnpackOptions): Promise<UnpackResult> {
  const unpacker = new Unpacker(options);
  // Our own error, kept aside: when the consumer throws, pipeline() may reject with the
  // AbortError of the streams it tears down instead.
  let failure: unknown;
  try {
    await pipeline(
      createReadStream(options.tarballPath, { highWaterMark: CHUNK_BYTES }),
      createGunzip({ chunkSize: CHUNK_BYTES }),
      // Buffer for the inflater to run ahead into while this thread writes.
      new PassThrough({ highWaterMark: INFLATE_AHEAD_BYTES }),
      async (inflated: AsyncIterable<Buffer>) => {
        try {
          for await (const chunk of inflated) unpacker.consume(chunk);
        } catch (err) {
          failure ??= err;
          throw err;
        }
      },
    );
  } catch (err) {
    unpacker.closeOpenFile();
    throw translate(failure ?? err);
  }
  unpacker.finish();
  return { entries: unpacker.entries, bytes: unpacker.bytes };
}

class Unpacker {
  entries = 0;
  bytes = 0;
  private readonly parser: Parser;
  private readonly created = new Map<string, Kind>();
  /** Folded paths of the symlinks created, checked only once there is one. */
  private readonly foldedSymlinks = new Set<string>();
  private readonly maxStreamBytes: number;
  private streamBytes = 0;
  private trailingBytes = 0;
  private sawEof = false;
  private sniffed = false;
  private openFd: number | undefined;

  constructor(private readonly options: UnpackOptions) {
    const { limits } = options;
    this.maxStreamBytes = limits.maxTotalBytes + limits.maxEntries * TAR_OVERHEAD_PER_ENTRY + MAX_TRAILING_BYTES;
    // strict: node-tar's warnings (bad checksum, truncated body, linkpath on a file...) become
    // 'error' events, which we turn into SWARM_ERR_ARCHIVE_CORRUPT. brotli/zstd off: the
    // stream reaching the parser is already inflated and must be plain tar.
    this.parser = new Parser({ strict: true, maxMetaEntrySize: MAX_META_ENTRY_BYTES, brotli: false, zstd: false });
    this.parser.on('entry', (entry: ReadEntry) => this.onEntry(entry));
    this.parser.on('ignoredEntry', (entry: ReadEntry) => this.onIgnoredEntry(entry));
    this.parser.on('error', (err: Error) => {
      throw corrupt(`the tar stream is invalid: ${err.message}`);
    });
    this.parser.on('eof', () => {
      this.sawEof = true;
    });
  }

  /** Feed one inflated chunk. Throws the first problem found, synchronously. */
  consume(chunk: Buffer): void {
    if (this.options.shouldStop?.()) throw abortError();
    this.streamBytes += chunk.length;
    if (this.streamBytes > this.maxStreamBytes) {
      // Headers alone cannot inflate past this: the stream is a bomb (or padding abuse).
      throw limit(
        'maxTotalBytes',
        this.streamBytes,
        'the uncompressed archive exceeds maxTotalBytes plus tar overhead',
      );
    }
    if (this.sawEof) {
      // node-tar buffers everything after the end marker; never hand it more.
      this.trailingBytes += chunk.length;
      if (this.trailingBytes > MAX_TRAILING_BYTES) {
        throw corrupt(`more than ${MAX_TRAILING_BYTES} bytes of data follow the end-of-archive marker`);
      }
      return;
    }
    if (!this.sniffed) {
      this.sniffed = true;
      // The parser would inflate a second gzip layer by itself, past our byte counting.
      if (chunk[0] === 0x1f && chunk[1] === 0x8b) throw corrupt('the tarball is compressed twice');
    }
    this.parser.write(chunk);
  }

  /** After the last chunk: the archive must have ended with its end-of-archive marker. */
  finish(): void {
    this.closeOpenFile();
    if (!this.sawEof) throw corrupt('the archive ends without its end-of-archive marker (truncated?)');
  }

  closeOpenFile(): void {
    if (this.openFd !== undefined) {
      const fd = this.openFd;
      this.openFd = undefined;
      closeSync(fd);
    }
  }

  private onIgnoredEntry(entry: ReadEntry): void {
    if (entry.meta) {
      throw unsafe(entry.path, `${entry.type} header larger than ${MAX_META_ENTRY_BYTES} bytes`);
    }
    throw unsafe(entry.path, `unsupported entry type ${entry.type}`);
  }

  private onEntry(entry: ReadEntry): void {
    const { limits } = this.options;
    this.entries++;
    if (this.entries > limits.maxEntries) throw limit('maxEntries', this.entries, 'too many entries');
    const sizeProblem = sizeFieldProblem(entry);
    if (sizeProblem !== undefined) throw corrupt(`the header of ${JSON.stringify(clip(entry.path))} ${sizeProblem}`);

    const verdict = normalizeEntryPath(entry.path);
    if (!verdict.ok) throw unsafe(entry.path, verdict.reason);
    const { path, segments } = verdict;
    if (segments.length > limits.maxDepth) throw limit('maxDepth', segments.length, `path too deep: ${clip(path)}`);
    const pathBytes = Buffer.byteLength(path);
    if (pathBytes > limits.maxPathBytes) throw limit('maxPathBytes', pathBytes, `path too long: ${clip(path)}`);

    const kind = kindOf(entry);
    if (segments.length === 0) {
      // `./` itself: the destination exists already and keeps its own mode.
      if (kind === 'directory') return void entry.resume();
      throw unsafe(entry.path, 'entry names the release root');
    }
    this.ensureParents(entry.path, segments);
    const existing = this.created.get(path);
    if (existing !== undefined && !(existing === 'directory' && kind === 'directory')) {
      throw unsafe(entry.path, `duplicate entry (a ${existing}, then a ${kind})`);
    }
    if (this.foldedSymlinks.size > 0 && this.foldedSymlinks.has(foldPath(path))) {
      throw unsafe(entry.path, 'entry collides with a symlink on a case-insensitive file system');
    }
    const full = join(this.options.destDir, path);
    if (kind === 'directory') this.writeDirectory(entry, path, full, existing !== undefined);
    else if (kind === 'file') this.writeFile(entry, path, full);
    else this.writeSymlink(entry, path, segments, full);
  }

  /** Create missing parents as plain directories; refuse a parent that is a symlink or a file. */
  private ensureParents(raw: string, segments: string[]): void {
    let prefix = '';
    for (let i = 0; i < segments.length - 1; i++) {
      prefix = i === 0 ? segments[0]! : `${prefix}/${segments[i]!}`;
      const kind = this.created.get(prefix);
      if (kind === 'directory') continue;
      if (kind !== undefined) throw unsafe(raw, `parent ${clip(prefix)} is a ${kind}`);
      if (this.foldedSymlinks.size > 0 && this.foldedSymlinks.has(foldPath(prefix))) {
        throw unsafe(raw, `parent ${clip(prefix)} collides with a symlink on a case-insensitive file system`);
      }
      this.mkdir(join(this.options.destDir, prefix), 0o755);
      this.created.set(prefix, 'directory');
    }
  }

  private writeDirectory(entry: ReadEntry, path: string, full: string, exists: boolean): void {
    const mode = extractedMode('directory', entry.mode);
    if (exists) fixMode(full, mode);
    else {
      this.mkdir(full, mode);
      if (mode & this.options.umask) fixMode(full, mode);
    }
    this.created.set(path, 'directory');
    entry.resume();
  }

  private writeFile(entry: ReadEntry, path: string, full: string): void {
    const { limits } = this.options;
    if (entry.size > limits.maxEntryBytes) {
      throw limit('maxEntryBytes', entry.size, `file too large: ${clip(path)}`);
    }
    // Checked against the header before a byte is written: a declared 1 TB file is refused
    // without inflating it.
    if (this.bytes + entry.size > limits.maxTotalBytes) {
      throw limit('maxTotalBytes', this.bytes + entry.size, `files exceed the total size cap at ${clip(path)}`);
    }
    this.bytes += entry.size;
    const mode = extractedMode('file', entry.mode);
    const fd = this.open(full, mode);
    this.created.set(path, 'file');
    if (mode & this.options.umask) fchmodSync(fd, mode);
    if (entry.size === 0) {
      closeSync(fd);
      return void entry.resume();
    }
    this.openFd = fd;
    entry.on('end', () => this.closeOpenFile());
    entry.on('data', (chunk: Buffer) => {
      try {
        writeAll(fd, chunk);
      } catch (err) {
        throw writeFailed(full, err);
      }
    });
  }

  private writeSymlink(entry: ReadEntry, path: string, segments: string[], full: string): void {
    const target = entry.linkpath ?? '';
    const targetBytes = Buffer.byteLength(target);
    if (targetBytes > this.options.limits.maxPathBytes) {
      throw limit('maxPathBytes', targetBytes, `symlink target too long: ${clip(path)}`);
    }
    const problem = symlinkTargetProblem(segments, target);
    if (problem !== undefined) throw unsafe(entry.path, `${problem} (${clip(path)} -> ${clip(target)})`);
    try {
      symlinkSync(target, full);
    } catch (err) {
      throw writeFailed(full, err);
    }
    this.created.set(path, 'symlink');
    this.foldedSymlinks.add(foldPath(path));
    entry.resume();
  }

  private mkdir(full: string, mode: number): void {
    try {
      mkdirSync(full, { mode });
    } catch (err) {
      // Only a case-folding file system can make a path we never created exist already.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !lstatSync(full).isDirectory()) {
        throw unsafe(full, 'entry collides with another entry on this file system');
      }
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailed(full, err);
    }
  }

  private open(full: string, mode: number): number {
    try {
      return openSync(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw unsafe(full, 'entry collides with another entry on this file system');
      }
      throw writeFailed(full, err);
    }
  }
}

/**
 * What is wrong with an entry's size, if anything. node-tar 7.5 turns a size field it cannot
 * use — negative (base-256 `0xff…`, e.g. -1), or octal that is not a number — into "no size"
 * and reads the entry as empty, where GNU tar refuses the archive; and it takes a PAX `size`
 * record of any non-negative number, fractions included. Two readers disagreeing on where an
 * entry ends is how tar smuggling works, so a size that is not a non-negative integer means
 * the header is corrupt, whatever the entry type.
 *
 * Sizes past 2^53 (only a PAX record can state one) are refused too: a file's by the size caps
 * (`SWARM_ERR_ARCHIVE_LIMIT`, its honest reason), any other entry's here. A directory header's
 * own size field never reaches us (node-tar zeroes it, directories have no body), so a bad one
 * there cannot move the stream.
 */
function sizeFieldProblem(entry: ReadEntry): string | undefined {
  if (entry.header.size === undefined) return 'has a negative or unreadable size field';
  const { size } = entry;
  if (!Number.isInteger(size) || size < 0) return `declares a size of ${size}, not a whole number of bytes`;
  if (!Number.isSafeInteger(size) && !FILE_TYPES.has(entry.type)) return `declares a size of ${size} bytes`;
  return undefined;
}

/** The tar types extracted as regular files. */
const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);

function kindOf(entry: ReadEntry): Kind {
  if (FILE_TYPES.has(entry.type)) return 'file';
  switch (entry.type) {
    case 'Directory':
      return 'directory';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      throw unsafe(entry.path, 'hard link (only files, directories and symlinks are allowed)');
    case 'CharacterDevice':
    case 'BlockDevice':
      throw unsafe(entry.path, 'device file');
    case 'FIFO':
      throw unsafe(entry.path, 'FIFO');
    default:
      throw unsafe(entry.path, `unsupported entry type ${entry.type}`);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
}

function fixMode(full: string, mode: number): void {
  // Only ever called on a directory this archive created: no symlink to follow.
  const fd = openSync(full, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** Map what the stream pipeline threw: ours pass through, zlib's mean a corrupt gzip. */
function translate(err: unknown): unknown {
  if (isSwarmError(err) || (err as Error).name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_') || (err as { errno?: unknown }).errno === -3 || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    return corrupt(`the gzip stream is invalid: ${(err as Error).message}`);
  }
  return err;
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

function unsafe(entry: string, reason: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_UNSAFE', `unsafe archive entry ${JSON.stringify(clip(entry))}: ${reason}`, {
    entry: clip(entry),
    reason,
  });
}

function limit(name: keyof ExtractLimits, value: number, what: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_LIMIT', `${what} (${name} exceeded: ${value})`, { limit: name, value });
}

function corrupt(message: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_CORRUPT', message);
}

function writeFailed(path: string, err: unknown): SwarmError {
  const e = err as NodeJS.ErrnoException;
  return swarmError('SWARM_ERR_ARCHIVE_WRITE_FAILED', `cannot write ${path}: ${e.message}`, {
    path,
    errno: e.code,
  });
}

function abortError(): Error {
  return new DOMException('the extraction was aborted', 'AbortError');
}
