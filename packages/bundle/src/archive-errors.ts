/**
 * The errors of reading an archive, shared by the rules (safe-unpack.ts) and the writers that
 * carry them out (disk-writer.ts), so that a refusal looks the same whoever raises it.
 */
import { swarmError, type SwarmError } from '@swarm/errors';
import type { ExtractLimits } from './extract-limits.js';

/** An entry path or link target cut to a length fit for a message. */
export function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** SWARM_ERR_ARCHIVE_UNSAFE `{ entry, reason }`: an entry the rules refuse. */
export function unsafe(entry: string, reason: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_UNSAFE', `unsafe archive entry ${JSON.stringify(clip(entry))}: ${reason}`, {
    entry: clip(entry),
    reason,
  });
}

/** SWARM_ERR_ARCHIVE_LIMIT `{ limit, value }`: a cap crossed. */
export function limit(name: keyof ExtractLimits, value: number, what: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_LIMIT', `${what} (${name} exceeded: ${value})`, { limit: name, value });
}

/**
 * SWARM_ERR_ARCHIVE_INFLATION_RATIO `{ limit, inflatedBytes, compressedBytes, maxInflationRatio,
 * inflationFloorBytes }`: the stream inflated past the ratio (inflation-guard.ts).
 */
export function inflationRatio(
  inflatedBytes: number,
  compressedBytes: number,
  limits: Pick<ExtractLimits, 'maxInflationRatio' | 'inflationFloorBytes'>,
): SwarmError {
  const { maxInflationRatio, inflationFloorBytes } = limits;
  return swarmError(
    'SWARM_ERR_ARCHIVE_INFLATION_RATIO',
    `the archive inflated ${inflatedBytes} bytes from ${compressedBytes} compressed bytes, more than ` +
      `${maxInflationRatio} times (maxInflationRatio) past ${inflationFloorBytes} bytes (inflationFloorBytes): a gzip bomb?`,
    { limit: 'maxInflationRatio', inflatedBytes, compressedBytes, maxInflationRatio, inflationFloorBytes },
  );
}

/** SWARM_ERR_ARCHIVE_CORRUPT: not a complete, well-formed gzipped tarball. */
export function corrupt(message: string): SwarmError {
  return swarmError('SWARM_ERR_ARCHIVE_CORRUPT', message);
}

/** SWARM_ERR_ARCHIVE_WRITE_FAILED `{ path, errno }`: the file system refused a write. */
export function writeFailed(path: string, err: unknown): SwarmError {
  const e = err as NodeJS.ErrnoException;
  return swarmError('SWARM_ERR_ARCHIVE_WRITE_FAILED', `cannot write ${path}: ${e.message}`, {
    path,
    errno: e.code,
  });
}

/** What a stop asked for between two chunks throws. */
export function abortError(): Error {
  return new DOMException('the extraction was aborted', 'AbortError');
}
