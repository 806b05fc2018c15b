// Seeded randomness: the same seed gives the same workload bytes on every machine and run,
// so a figure measured today can be compared with one measured next month.
import { createCipheriv, createHash } from 'node:crypto';

/**
 * A small deterministic PRNG (sfc32) for decisions: sizes, names, which file is binary.
 * Not for bytes in bulk (see {@link keystream}).
 */
export function prng(seed) {
  const h = createHash('sha256').update(String(seed)).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  return {
    /** Uniform in [0, 1). */
    next,
    /** Integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

/**
 * Incompressible bytes in bulk: AES-256-CTR over zeros, keyed by the seed. ~2 GB/s with AES-NI,
 * and like any random data it defeats gzip, which is the point of the "binary" files and blobs.
 */
export function keystream(seed) {
  const key = createHash('sha256').update(`key:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return (bytes) => cipher.update(Buffer.alloc(bytes));
}
