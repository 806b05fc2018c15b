import { swarmError } from '@swarm/errors';

/** Caps on what one release archive may unpack to. Crossing one is SWARM_ERR_ARCHIVE_LIMIT. */
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
}

/** Generous for any application release, small enough that a hostile one cannot fill a disk. */
export const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxEntries: 100_000,
  maxTotalBytes: 4 * 1024 ** 3,
  maxEntryBytes: 2 * 1024 ** 3,
  maxDepth: 64,
  maxPathBytes: 4096,
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
