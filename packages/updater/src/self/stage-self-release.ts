import { mkdir, rename, rm } from 'node:fs/promises';
import { extractRelease, releaseId, syncTree, type ExtractLimits } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import { fsyncDir, releaseDir, releaseDirPaths, releaseExists, stagingDir } from '@swarm/release-dir';
import type { ReleaseRecord } from '../journal/journal.js';

/** Options of {@link stageSelfRelease}. */
export interface StageSelfOptions {
  readonly selfDir: string;
  /** The received tarball, its digest already verified. */
  readonly tarball: string;
  readonly sha256: string;
  readonly limits: Partial<ExtractLimits>;
  readonly signal: AbortSignal;
}

/**
 * Put a verified updater release into `<self-dir>/releases/<id>`, complete before it has that
 * name: extracted (hostile-archive rules, caps) into a dot-prefixed staging directory,
 * flushed, then renamed. The supervisor only ever flips `current` to a complete release.
 * An updater release has no `install` step: nothing may run on the worker to prepare it.
 */
export async function stageSelfRelease(options: StageSelfOptions): Promise<ReleaseRecord> {
  const paths = releaseDirPaths(options.selfDir);
  await mkdir(paths.releases, { recursive: true, mode: 0o755 });
  const staging = stagingDir(paths);
  try {
    const { manifest } = await extractRelease(options.tarball, staging, {
      limits: options.limits,
      signal: options.signal,
    });
    if (manifest.install) {
      throw swarmError('SWARM_ERR_RELEASE_MANIFEST_INVALID', 'an updater release cannot have an install step', {
        problems: ['install: not allowed in an updater release (it must run with plain node)'],
      });
    }
    const id = releaseId(manifest, options.sha256);
    if (!(await releaseExists(paths, id))) {
      await syncTree(staging);
      await rename(staging, releaseDir(paths, id));
      await fsyncDir(paths.releases);
    }
    return {
      id,
      name: manifest.name,
      version: manifest.version,
      sha256: options.sha256,
      installedAt: new Date().toISOString(),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
