import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspectRelease, packRelease, type InspectResult } from '@swarm/bundle';
import { isSwarmError, swarmError } from '@swarm/errors';
import type { PackedRelease } from './host-steps.js';

/** Where a rollout's release comes from: a tree to pack, or a tarball packed before. */
export type ReleaseSource =
  { readonly tree: string; readonly exclude?: readonly string[] } | { readonly tarball: string };

/** A release ready to push, and the temporary directory to remove when the rollout ends. */
export type PreparedRelease = PackedRelease & {
  readonly file: string;
  dispose(): Promise<void>;
};

/**
 * Make a release ready to push, once for the whole rollout: pack the tree into a temporary
 * tarball, or check a given tarball with the updater's own hostile-archive rules and
 * release.json validation — in one streaming read that also hashes it and writes nothing
 * (`inspectRelease`) — so a broken or unsafe archive is refused here rather than by every host.
 */
export async function prepareRelease(source: ReleaseSource): Promise<PreparedRelease> {
  if ('tarball' in source) return checkTarball(resolve(source.tarball));
  const scratch = await mkdtemp(join(tmpdir(), 'swarm-release-'));
  const dispose = () => rm(scratch, { recursive: true, force: true });
  try {
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
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** A given tarball: pushed as it is, nothing to clean up. */
async function checkTarball(file: string): Promise<PreparedRelease> {
  await assertRegularFile(file);
  let inspected: InspectResult;
  try {
    inspected = await inspectRelease(file);
  } catch (err) {
    // The archive's own problems keep their codes; a file that cannot be read is a usage error.
    if (isSwarmError(err)) throw err;
    throw unreadable(file, err);
  }
  const { manifest, sha256, size } = inspected;
  return { name: manifest.name, version: manifest.version, sha256, size, file, dispose: async () => undefined };
}

async function assertRegularFile(file: string): Promise<void> {
  try {
    // A FIFO or a device would block the read, a directory fail it obscurely: refuse them first.
    if (!(await stat(file)).isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw unreadable(file, err);
  }
}

function unreadable(file: string, err: unknown) {
  return swarmError(
    'SWARM_ERR_USAGE_INVALID',
    `cannot read the tarball ${file}: ${(err as Error).message}`,
    {},
    { cause: err },
  );
}

/** SHA-256 of a file, streamed: memory stays flat whatever its size. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
