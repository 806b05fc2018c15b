import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extractRelease, packRelease } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import type { PackedRelease } from './host-steps.js';

/** Where a rollout's release comes from: a tree to pack, or a tarball packed before. */
export type ReleaseSource =
  { readonly tree: string; readonly exclude?: readonly string[] } | { readonly tarball: string };

/** A release ready to push, and the temporary directory to remove when the rollout ends. */
export interface PreparedRelease extends PackedRelease {
  dispose(): Promise<void>;
}

/**
 * Make a release ready to push, once for the whole rollout: pack the tree into a temporary
 * tarball, or check a given tarball — hashed as a stream and extracted once into a scratch
 * directory with the updater's own hostile-archive rules, so a broken or unsafe archive is
 * refused here (exit 2) rather than by every host.
 */
export async function prepareRelease(source: ReleaseSource): Promise<PreparedRelease> {
  const scratch = await mkdtemp(join(tmpdir(), 'swarm-release-'));
  const dispose = () => rm(scratch, { recursive: true, force: true });
  try {
    if ('tree' in source) {
      const packed = await packRelease({
        tree: resolve(source.tree),
        out: join(scratch, 'release.tgz'),
        exclude: [...(source.exclude ?? [])],
      });
      return {
        name: packed.name,
        version: packed.version,
        sha256: packed.sha256,
        size: packed.size,
        file: packed.file,
        dispose,
      };
    }
    const file = resolve(source.tarball);
    const size = await fileSize(file);
    const sha256 = await sha256File(file);
    const { manifest } = await extractRelease(file, join(scratch, 'check'));
    await rm(join(scratch, 'check'), { recursive: true, force: true });
    return { name: manifest.name, version: manifest.version, sha256, size, file, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a regular file');
    return s.size;
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `cannot read the tarball ${file}: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/** SHA-256 of a file, streamed: memory stays flat whatever its size. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
