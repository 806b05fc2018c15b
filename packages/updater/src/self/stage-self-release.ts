import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { extractRelease, releaseId, syncTree, type ExtractLimits } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import { fsyncDir } from '../lifecycle/durable-file.js';
import type { ReleaseRecord } from '../lifecycle/journal.js';

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
  const releases = join(options.selfDir, 'releases');
  await mkdir(releases, { recursive: true, mode: 0o755 });
  const staging = join(releases, `.staging-${randomUUID()}`);
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
    const dest = join(releases, id);
    if (!(await exists(dest))) {
      await syncTree(staging);
      await rename(staging, dest);
      await fsyncDir(releases);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
