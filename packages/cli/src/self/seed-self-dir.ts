import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packRelease } from '@swarm/bundle';
import { activeSelfRelease, seedSelfRelease } from '@swarm/supervisor';
import { stageSelfRelease } from '@swarm/updater';
import { selfReleaseTree } from './self-release.js';

/**
 * First start with an empty self directory: install the running version there (the
 * updater release of this installation), through the same pack → verify-free stage path as
 * a self-update, so that later switches have a `prev` to fall back to; the supervisor, owner of
 * the self directory's journal, makes it the active release. A self directory
 * that already has a `current` is left alone: it may run a newer updater than this CLI.
 */
export async function seedSelfDir(selfDir: string): Promise<{ seeded: boolean; id: string }> {
  const existing = await activeSelfRelease(selfDir);
  if (existing) return { seeded: false, id: existing };
  const scratch = await mkdtemp(join(tmpdir(), 'swarm-seed-'));
  try {
    const packed = await packRelease({ tree: selfReleaseTree(), out: join(scratch, 'updater.tgz') });
    const release = await stageSelfRelease({
      selfDir,
      tarball: packed.file,
      sha256: packed.sha256,
      limits: {},
      signal: new AbortController().signal,
    });
    await seedSelfRelease(selfDir, release.id);
    return { seeded: true, id: release.id };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
