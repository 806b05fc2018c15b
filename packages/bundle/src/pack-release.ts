import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isSwarmError, swarmError } from '@swarm/errors';
import { END_OF_ARCHIVE, headerBlocks, padding } from './deterministic-tar.js';
import { readManifest } from './manifest.js';
import { scanReleaseTree, type SkippedPath, type TreeEntry } from './release-tree.js';

/** Options of {@link packRelease}. */
export interface PackOptions {
  /** The release tree: a readable directory with `release.json` at its root. */
  tree: string;
  /**
   * Where to write the tarball. Default: `<name>-<version>.tgz` in the current directory.
   * Written to a temporary file beside it and renamed into place, so it is never partial;
   * its directory is created if needed.
   */
  out?: string;
  /**
   * Paths that never ship, absolute or relative to the current directory, with everything
   * below them; the CLI passes the master home when it lies inside the tree. The output
   * file is always excluded.
   */
  exclude?: string[];
}

/** What {@link packRelease} wrote. */
export interface PackResult {
  name: string;
  version: string;
  /** Lowercase hex SHA-256 of the tarball, computed while writing it. */
  sha256: string;
  /** Bytes of the tarball. */
  size: number;
  /** Absolute path of the tarball. */
  file: string;
  /** Files and symlinks packed (directories not counted). */
  fileCount: number;
  /** Paths left out (hygiene rules, `exclude`, symlinks that could leave the release), to show the operator. */
  skipped: SkippedPath[];
}

/**
 * gzip level: zlib's default, the usual size/speed balance. Part of the reproducibility
 * contract: changing it changes every digest.
 */
const GZIP_LEVEL = 6;
/** The gzip header's OS byte, pinned to "Unix": zlib writes the build platform's code. */
const GZIP_OS_UNIX = 3;
const READ_BYTES = 64 * 1024;
/** Tar bytes handed to gzip at once (see {@link coalesce}). */
const BATCH_BYTES = 512 * 1024;
/** zlib's output buffer per round trip (its default is 16 KiB). */
const GZIP_CHUNK_BYTES = 128 * 1024;

/**
 * Build a deterministic gzipped tarball of a release tree (wiki/reference/layouts.md#release-tarball, issue 4): the same
 * tree gives the same bytes, whatever the files' times, owners or the order the file
 * system lists them in. Entries are sorted (depth-first, names in UTF-8 byte order),
 * stamped 2000-01-01T00:00:00Z, owned by 0:0 with no user/group names, modes normalized
 * (directories 0755, files 0755 when owner-executable, else 0644); headers are plain
 * ustar (PAX only for long or non-ASCII names, never times or extended attributes); the
 * gzip header carries no name and no time. The tar stream is identical on every machine;
 * the gzip bytes are identical for the same Node.js build (its bundled zlib).
 *
 * What ships: `files` from release.json when present, else the whole tree minus the
 * hygiene rules (`.git`, `.swarm`, `*.key`, `*.pem`, `.env`, `.env.*`,
 * `node_modules/.cache`, earlier `<name>-*.tgz` at the root) and `exclude`.
 *
 * Streams: memory does not grow with the release. Errors: the manifest errors,
 * SWARM_ERR_PACK_TREE_INVALID (tree missing or unreadable, unsafe names, a file changing
 * while packed, `files` naming what is not there), SWARM_ERR_PACK_OUT_UNWRITABLE.
 */
export async function packRelease(options: PackOptions): Promise<PackResult> {
  const root = await treeRoot(options.tree);
  const manifest = await readManifest(root);
  const file = resolve(options.out ?? `${manifest.name}-${manifest.version}.tgz`);
  const excluded = new Set(await Promise.all([...(options.exclude ?? []), file].map(realOrResolved)));
  const scan = await scanReleaseTree(root, manifest, excluded);
  if (scan.problems.length > 0) {
    throw swarmError(
      'SWARM_ERR_PACK_TREE_INVALID',
      `the release tree ${root} cannot be packed:\n${scan.problems.map((p) => `  - ${p}`).join('\n')}`,
      { tree: root, problems: scan.problems },
    );
  }

  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const digest = new DigestStream();
  try {
    await mkdir(dirname(file), { recursive: true });
    await pipeline(
      // The reader runs up to a few batches ahead, so the files are read while gzip compresses.
      Readable.from(coalesce(tarStream(scan.entries), BATCH_BYTES), {
        objectMode: false,
        highWaterMark: 4 * BATCH_BYTES,
      }),
      createGzip({ level: GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES }),
      digest,
      createWriteStream(tmp, { flags: 'wx', mode: 0o644 }),
    );
    await rename(tmp, file);
  } catch (err) {
    // Best effort: when the directory itself is the problem there is nothing to remove.
    await rm(tmp, { force: true }).catch(() => {});
    if (isSwarmError(err)) throw err;
    throw swarmError('SWARM_ERR_PACK_OUT_UNWRITABLE', `cannot write ${file}: ${(err as Error).message}`, {
      file,
      errno: (err as NodeJS.ErrnoException).code,
    });
  }
  return {
    name: manifest.name,
    version: manifest.version,
    sha256: digest.hash.digest('hex'),
    size: digest.bytes,
    file,
    fileCount: scan.entries.filter((e) => e.kind !== 'directory').length,
    skipped: scan.skipped,
  };
}

async function treeRoot(tree: string): Promise<string> {
  try {
    const root = await realpath(resolve(tree));
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    return root;
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_PACK_TREE_INVALID',
      `the release tree ${tree} is not a readable directory: ${(err as Error).message}`,
      {
        tree,
      },
    );
  }
}

/** The real path of `path`, or of its parent joined with its name when it does not exist (yet). */
async function realOrResolved(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    try {
      return join(await realpath(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/**
 * The tar stream in batches of about `size` bytes. Headers, paddings and small files are a
 * few hundred bytes each: handed to gzip one by one, each cost a round trip to zlib's thread
 * and the packer spent most of its time waiting. (Deflate's output does not depend on how
 * its input is split, so the bytes, and the digest, are the same.)
 */
async function* coalesce(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let bytes = 0;
  for await (const part of source) {
    parts.push(part);
    bytes += part.length;
    if (bytes >= size) {
      yield Buffer.concat(parts, bytes);
      parts = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield Buffer.concat(parts, bytes);
}

async function* tarStream(entries: readonly TreeEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield headerBlocks(entry);
    if (entry.kind === 'file' && entry.size > 0) {
      yield* fileContent(entry);
      yield padding(entry.size);
    }
  }
  yield END_OF_ARCHIVE;
}

/** Exactly `entry.size` bytes of the file, or an error if it changed since it was listed. */
async function* fileContent(entry: TreeEntry): AsyncGenerator<Buffer> {
  let handle;
  try {
    // O_NOFOLLOW: it was a regular file when listed; never follow a symlink swapped in since.
    handle = await open(entry.source, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw treeError(entry.path, `cannot be read: ${(err as Error).message}`);
  }
  try {
    let remaining = entry.size;
    while (remaining > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, remaining));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) throw treeError(entry.path, 'shrank while it was being packed');
      remaining -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, null);
    if (bytesRead !== 0) throw treeError(entry.path, 'grew while it was being packed');
  } catch (err) {
    if (isSwarmError(err)) throw err;
    throw treeError(entry.path, `cannot be read: ${(err as Error).message}`);
  } finally {
    await handle.close();
  }
}

function treeError(path: string, what: string) {
  return swarmError('SWARM_ERR_PACK_TREE_INVALID', `${path} ${what}; pack again`, { path });
}

/** Pins the gzip OS byte, then hashes and counts the bytes on their way to the file. */
class DigestStream extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const osByte = 9 - this.bytes;
    if (osByte >= 0 && osByte < chunk.length) chunk[osByte] = GZIP_OS_UNIX;
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }
}
