import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { isSwarmError } from '@swarm/errors';
import { abortError, clip, corrupt, limit, unsafe } from './archive-errors.js';
import type { EntryWriter } from './entry-writer.js';
import { extractedMode, foldPath, normalizeEntryPath, setIdProblem, symlinkTargetProblem } from './entry-policy.js';
import { TAR_OVERHEAD_PER_ENTRY, type ExtractLimits } from './extract-limits.js';
import { InflationGuard } from './inflation-guard.js';

/**
 * Read and inflate sizes. Bounded reads keep memory flat whatever the archive holds (the
 * wiki/reference/platform-facts.md gzip bomb reached 1.1 GB RSS with node-tar's default read size). Inflating runs
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
  /** What the accepted entries become: files on disk (disk-writer.ts), or nothing (dry-writer.ts). */
  writer: EntryWriter;
  limits: ExtractLimits;
  /** Polled between chunks; true stops the extraction with an AbortError. */
  shouldStop?: () => boolean;
  /** Also hash the whole file, from the same read: {@link UnpackResult.file}. */
  hash?: boolean;
}

export interface UnpackResult {
  /** Entries accepted (files, directories, symlinks). */
  entries: number;
  /** Bytes of file content accepted. */
  bytes: number;
  /** With {@link UnpackOptions.hash}: the SHA-256 (hex) and size of the tarball file as read. */
  file?: { sha256: string; size: number };
}

type Kind = 'directory' | 'file' | 'symlink';

/**
 * Read a gzipped tarball entry by entry, apply every rule to each entry as the stream is
 * parsed, and hand the accepted ones to `options.writer`, synchronously. Extraction runs it
 * with a DiskWriter inside the extraction worker (see extract-worker.ts): the sync file system
 * calls are the fast path (wiki/reference/platform-facts.md: node-tar sync 1.9 s vs async 4.8 s for 20k files) and the
 * worker keeps them off the caller's event loop. An inspection runs it with a DryWriter: the
 * same rules, nothing written.
 *
 * node-tar only parses here (its `Parser`); every decision is ours, because its extractor is
 * fail-open by default and keeps writing after a strict-mode rejection.
 * INVARIANTS:
 * - every path is checked before the writer sees it;
 * - nothing is created below a symlink or a file: the map of what this archive created is
 *   authoritative (the destination started empty), and the parents of every entry must be
 *   directories in it, so a symlink extracted earlier can never redirect a later write;
 * - a path is handed to the writer once (duplicate entries are refused), except a directory
 *   named again, whose mode is then set;
 * - the first problem throws out of the parser synchronously; no write follows it.
 */
export async function unpackTarball(options: UnpackOptions): Promise<UnpackResult> {
  const unpacker = new Unpacker(options);
  const hash = options.hash ? createHash('sha256') : null;
  let hashed = 0;
  // Our own error, kept aside: when the consumer throws, pipeline() may reject with the
  // AbortError of the streams it tears down instead.
  let failure: unknown;
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  const guard = new InflationGuard(gunzip, options.limits);
  try {
    const read = createReadStream(options.tarballPath, { highWaterMark: CHUNK_BYTES });
    await pipeline(
      hash ? hashing(read, hash, (n) => (hashed += n)) : read,
      gunzip,
      // Right after the inflater, so that a bomb stops it (and the reading) at once.
      guard,
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
    options.writer.close();
    // Whichever refused first: the guard, then the consumer's problem, then the pipeline's error.
    throw translate(guard.refusal ?? failure ?? err);
  }
  unpacker.finish();
  const result: UnpackResult = { entries: unpacker.entries, bytes: unpacker.bytes };
  if (hash) {
    // The digest is the whole file's, whatever the inflater did with bytes after the end of
    // the gzip stream (zero padding is allowed there; Node's inflater reads it today): read
    // anything it left.
    for await (const chunk of createReadStream(options.tarballPath, { start: hashed, highWaterMark: CHUNK_BYTES })) {
      hash.update(chunk as Buffer);
      hashed += (chunk as Buffer).length;
    }
    result.file = { sha256: hash.digest('hex'), size: hashed };
  }
  return result;
}

/** The chunks of `source`, each hashed on its way through. */
async function* hashing(source: AsyncIterable<Buffer>, hash: Hash, counted: (bytes: number) => void) {
  for await (const chunk of source) {
    hash.update(chunk);
    counted(chunk.length);
    yield chunk;
  }
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
    this.options.writer.close();
    if (!this.sawEof) throw corrupt('the archive ends without its end-of-archive marker (truncated?)');
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
    // Before the root is skipped: a set-id bit anywhere refuses the archive.
    const setId = setIdProblem(entry.mode);
    if (setId !== undefined) throw unsafe(entry.path, setId);
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
    if (kind === 'directory') this.writeDirectory(entry, path, existing !== undefined);
    else if (kind === 'file') this.writeFile(entry, path);
    else this.writeSymlink(entry, path, segments);
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
      // A parent the archive does not name gets the mode of a directory entry without one.
      this.options.writer.directory(prefix, extractedMode('directory', undefined), false);
      this.created.set(prefix, 'directory');
    }
  }

  private writeDirectory(entry: ReadEntry, path: string, exists: boolean): void {
    this.options.writer.directory(path, extractedMode('directory', entry.mode), exists);
    this.created.set(path, 'directory');
    entry.resume();
  }

  private writeFile(entry: ReadEntry, path: string): void {
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
    const { writer } = this.options;
    writer.file(path, extractedMode('file', entry.mode), entry.size);
    this.created.set(path, 'file');
    if (entry.size === 0) {
      writer.endFile();
      return void entry.resume();
    }
    entry.on('end', () => writer.endFile());
    entry.on('data', (chunk: Buffer) => writer.write(chunk));
  }

  private writeSymlink(entry: ReadEntry, path: string, segments: string[]): void {
    const target = entry.linkpath ?? '';
    const targetBytes = Buffer.byteLength(target);
    if (targetBytes > this.options.limits.maxPathBytes) {
      throw limit('maxPathBytes', targetBytes, `symlink target too long: ${clip(path)}`);
    }
    const problem = symlinkTargetProblem(segments, target);
    if (problem !== undefined) throw unsafe(entry.path, `${problem} (${clip(path)} -> ${clip(target)})`);
    this.options.writer.symlink(path, target);
    this.created.set(path, 'symlink');
    this.foldedSymlinks.add(foldPath(path));
    entry.resume();
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

/** Map what the stream pipeline threw: ours pass through, zlib's mean a corrupt gzip. */
function translate(err: unknown): unknown {
  if (isSwarmError(err) || (err as Error).name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_') || (err as { errno?: unknown }).errno === -3 || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    return corrupt(`the gzip stream is invalid: ${(err as Error).message}`);
  }
  return err;
}
