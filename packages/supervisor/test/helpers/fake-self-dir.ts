import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfDirPaths, writeSelfState, type SelfDirPaths } from '../../src/self-dir.js';

/** The release every fake self directory runs. */
export const FAKE_RELEASE_ID = '1.0.0-aaaaaaaaaaaa';

/**
 * A stand-in for the updater: it appends its PID to $FAKE_UPDATER_LOG and runs until it is
 * signalled. It ignores the loss of its IPC channel, as a real updater does when its
 * supervisor died before its code ran (it then never sees a channel to lose).
 *
 * Some tests make it refuse to start as a real updater does (packages/updater/src/main.ts):
 * - $FAKE_UPDATER_EXIT: exit with that status at once, after sending $FAKE_UPDATER_REPORT
 *   (a JSON error body) as its start-failure report if set;
 * - $FAKE_UPDATER_LOCK: a file standing for the install directory's lock, holding the owner's
 *   PID. A live owner makes it report SWARM_ERR_UPDATER_LOCKED naming that PID and exit 2;
 *   otherwise it writes its own PID there ($FAKE_UPDATER_FORCE_LOCK: whatever the file says).
 */
const FAKE_UPDATER = `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
appendFileSync(process.env.FAKE_UPDATER_LOG, process.pid + '\\n');
const refuse = (status, error) => {
  if (error && process.send) process.send({ type: 'swarm:start-failed', error }, () => process.exit(status));
  else process.exit(status);
};
const lock = process.env.FAKE_UPDATER_LOCK;
let owner = 0;
try {
  owner = Number(readFileSync(lock, 'utf8'));
  process.kill(owner, 0);
} catch {
  owner = 0;
}
if (process.env.FAKE_UPDATER_EXIT) {
  const report = process.env.FAKE_UPDATER_REPORT;
  refuse(Number(process.env.FAKE_UPDATER_EXIT), report ? JSON.parse(report) : null);
} else if (lock && owner && owner !== process.pid && !process.env.FAKE_UPDATER_FORCE_LOCK) {
  const message = 'another updater (PID ' + owner + ') owns the install directory';
  refuse(2, { code: 'SWARM_ERR_UPDATER_LOCKED', message, pid: owner, lock });
} else {
  if (lock) writeFileSync(lock, String(process.pid));
  setInterval(() => {}, 1000);
  process.on('SIGTERM', () => process.exit(0));
}
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
