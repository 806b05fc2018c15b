import { Transform, type TransformCallback } from 'node:stream';
import type { Gunzip } from 'node:zlib';
import { inflationRatio } from './archive-errors.js';
import type { ExtractLimits } from './extract-limits.js';

/**
 * The gzip bomb guard: passes the inflater's output through, counting it against the
 * compressed bytes the inflater has consumed so far (`bytesWritten`, which zlib advances with
 * each output chunk, so the two counts describe the same point of the stream; bytes read
 * ahead but not yet inflated do not count). Once more than `inflationFloorBytes` have come
 * out and more than `maxInflationRatio` times the compressed bytes, it fails the stream with
 * SWARM_ERR_ARCHIVE_INFLATION_RATIO: the pipeline is torn down and nothing more is read, so
 * what was inflated stays within the floor plus one inflater chunk (or the ratio times the
 * compressed bytes, plus one chunk, whichever is larger).
 *
 * Real releases inflate 3-6 times (wiki/security.md); 1 GiB of zeros gzips to ~1 MiB, a
 * ratio of ~1000. The size caps alone cannot catch a bomb early: it is refused only once it
 * has inflated past `maxTotalBytes` or declared more in a header. This stops it at the floor.
 */
export class InflationGuard extends Transform {
  /** Bytes passed through so far. */
  inflated = 0;
  /** The refusal, once made (the pipeline may report a teardown error instead). */
  refusal: Error | undefined;

  constructor(
    private readonly inflater: Gunzip,
    private readonly limits: Pick<ExtractLimits, 'maxInflationRatio' | 'inflationFloorBytes'>,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.inflated += chunk.length;
    const compressed = this.inflater.bytesWritten;
    const { maxInflationRatio, inflationFloorBytes } = this.limits;
    if (this.inflated > inflationFloorBytes && this.inflated > maxInflationRatio * compressed) {
      this.refusal = inflationRatio(this.inflated, compressed, this.limits);
      callback(this.refusal);
      return;
    }
    callback(null, chunk);
  }
}
