import { swarmError } from '@swarm/errors';

const MIB = 1024 * 1024;

/**
 * Caps on what one release archive may unpack to. Crossing a size, count or depth cap is
 * SWARM_ERR_ARCHIVE_LIMIT; crossing the inflation ratio is SWARM_ERR_ARCHIVE_INFLATION_RATIO.
 */
export interface ExtractLimits {
  /** Entries of any type (files, directories, symlinks), not counting tar metadata headers. */
  maxEntries: number;
  /** Sum of the sizes of all files, in bytes. Also bounds the decompressed stream (plus tar overhead). */
  maxTotalBytes: number;
  /** Size of the largest single file, in bytes. */
  maxEntryBytes: number;
  /** Path segments of the deepest entry (`a/b/c` is 3). */
  maxDepth: number;
  /** UTF-8 bytes of the longest entry path or symlink target. */
  maxPathBytes: number;
  /**
   * Most bytes inflated per compressed byte read, counted from the start of the stream. The
   * stream is refused as soon as it has inflated more than this many times the compressed
   * bytes read so far, once past {@link inflationFloorBytes}.
   */
  maxInflationRatio: number;
  /** Inflated bytes below which the ratio is not checked (small releases may compress very well). */
  inflationFloorBytes: number;
}

/**
 * Sized against real releases packed by `swarm pack` (wiki/security.md, "Archive limits"):
 * the largest measured, a Next.js app with its node_modules, is 350 MB in 10 887 files, its
 * largest file a 104 MB native addon, and no real tree inflated more than 6.2 times at any
 * point of its stream. The total cap is twice the upload cap (a 1 GiB upload of already
 * compressed data still fits), the file cap the upload cap; the ratio is Apache POI's
 * ZipSecureFile threshold (100), 16 times what a release needs.
 */
export const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxEntries: 100_000,
  maxTotalBytes: 2048 * MIB,
  maxEntryBytes: 1024 * MIB,
  maxDepth: 64,
  maxPathBytes: 4096,
  maxInflationRatio: 100,
  inflationFloorBytes: 64 * MIB,
});

/**
 * Tar overhead the decompressed stream may carry beyond `maxTotalBytes`: per entry a
 * header, a PAX record for a long path and the padding of its last block.
 */
export const TAR_OVERHEAD_PER_ENTRY = 2048;

/** Fill in defaults and check every limit is a positive safe integer (all problems at once). */
export function resolveExtractLimits(partial: Partial<ExtractLimits> = {}): ExtractLimits {
  const limits = { ...DEFAULT_EXTRACT_LIMITS };
  const problems: string[] = [];
  for (const key of Object.keys(DEFAULT_EXTRACT_LIMITS) as (keyof ExtractLimits)[]) {
    const value = partial[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0)
      problems.push(`${key}: must be a positive integer, got ${String(value)}`);
    else limits[key] = value;
  }
  if (problems.length > 0) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `invalid extraction limits: ${problems.join('; ')}`, { problems });
  }
  return limits;
}
