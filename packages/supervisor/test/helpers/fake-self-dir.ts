import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfDirPaths, writeSelfState, type SelfDirPaths } from '../../src/index.js';

/** The release every fake self directory runs. */
export const FAKE_RELEASE_ID = '1.0.0-aaaaaaaaaaaa';

/**
 * A stand-in for the updater: it appends its PID to $FAKE_UPDATER_LOG and runs until it is
 * signalled. It ignores the loss of its IPC channel, as a real updater does when its
 * supervisor died before its code ran (it then never sees a channel to lose).
 */
const FAKE_UPDATER = `import { appendFileSync } from 'node:fs';
appendFileSync(process.env.FAKE_UPDATER_LOG, process.pid + '\\n');
setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));
`;

/** A seeded self directory whose release is {@link FAKE_UPDATER}, in a fresh temp root. */
export interface FakeSelfDir {
  readonly root: string;
  readonly paths: SelfDirPaths;
  /** The release directory the updater runs from. */
  readonly releaseDir: string;
  /** Where each fake updater writes its PID when it starts. */
  readonly log: string;
  cleanup(): Promise<void>;
}

export async function createFakeSelfDir(): Promise<FakeSelfDir> {
  const root = await mkdtemp(join(tmpdir(), 'swarm-supervisor-test-'));
  const paths = selfDirPaths(join(root, 'self'));
  const releaseDir = join(paths.releases, FAKE_RELEASE_ID);
  await mkdir(releaseDir, { recursive: true });
  await writeFile(join(releaseDir, 'fake-updater.mjs'), FAKE_UPDATER);
  const manifest = { name: 'swarm-updater', version: '1.0.0', start: ['node', 'fake-updater.mjs'] };
  await writeFile(join(releaseDir, 'release.json'), `${JSON.stringify(manifest)}\n`);
  await symlink(join('releases', FAKE_RELEASE_ID), paths.current);
  await writeSelfState(paths, { active: FAKE_RELEASE_ID, prev: null, switching: null, lastSelfUpdate: null });
  const log = join(root, 'started.log');
  await writeFile(log, '');
  return { root, paths, releaseDir, log, cleanup: () => rm(root, { recursive: true, force: true }) };
}
