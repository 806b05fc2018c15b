import { resolve } from 'node:path';
import { DryWriter } from './dry-writer.js';
import { resolveExtractLimits, type ExtractLimits } from './extract-limits.js';
import { parseFoundManifest, type ReleaseManifest } from './manifest.js';
import { unpackTarball } from './safe-unpack.js';

/** Options of {@link inspectRelease}. */
export interface InspectOptions {
  /** Caps on the archive, as for extraction; each one left out is taken from DEFAULT_EXTRACT_LIMITS. */
  limits?: Partial<ExtractLimits>;
  /** Stops the inspection before its next chunk; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What {@link inspectRelease} found. */
export interface InspectResult {
  /** The validated `release.json` at the root of the release. */
  manifest: ReleaseManifest;
  /** Entries the archive holds: files, directories and symlinks (what extraction would write). */
  entries: number;
  /** Bytes of file content (what extraction would write). */
  bytes: number;
  /** SHA-256 of the tarball file, lowercase hex, from the same read. */
  sha256: string;
  /** Size of the tarball file in bytes, as hashed. */
  size: number;
  /** `release.json` exactly as the archive holds it (the config blob of a release artifact). */
  manifestBytes: Buffer;
}

/**
 * Check the gzipped release tarball at `tarballPath` the way `extractRelease` would —
 * the same entry rules, limits, corrupt-header and gzip-bomb checks, the same `release.json`
 * validation, the same error codes — without writing anything: one streaming read that also
 * hashes the file. The master uses it to refuse a bad `--tarball` before pushing it anywhere.
 *
 * It runs on the calling thread, which it holds a few milliseconds per 256 KiB chunk: measured
 * on the bench's `small` release (5 000 files, 10.8 MB), 0.36–0.6 s there against 0.5–0.75 s
 * in a fresh extraction worker, whose start costs more than it saves for one inspection.
 * Failures: the archive and manifest errors of `extractRelease` (never
 * SWARM_ERR_ARCHIVE_WRITE_FAILED), and the file system's own error when the file cannot be read.
 */
export async function inspectRelease(tarballPath: string, options: InspectOptions = {}): Promise<InspectResult> {
  const limits = resolveExtractLimits(options.limits);
  const { signal } = options;
  signal?.throwIfAborted();
  const path = resolve(tarballPath);
  const writer = new DryWriter();
  let result;
  try {
    result = await unpackTarball({
      tarballPath: path,
      writer,
      limits,
      hash: true,
      shouldStop: () => signal?.aborted === true,
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
  signal?.throwIfAborted();
  const manifest = parseFoundManifest(writer.found, path, path);
  const { sha256, size } = result.file!;
  return { manifest, entries: result.entries, bytes: result.bytes, sha256, size, manifestBytes: writer.found!.bytes! };
}
