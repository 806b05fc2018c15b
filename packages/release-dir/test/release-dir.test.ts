import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  isAlive,
  isAtomicWriteTemp,
  isRunning,
  pointCurrentAt,
  processIdentity,
  readCurrent,
  releaseDir,
  releaseDirPaths,
  releaseExists,
  removeCurrent,
  removeRelease,
  removeStaging,
  resolveCurrent,
  stagingDir,
  writeFileAtomic,
  writeFileDurable,
  type ReleaseDirPaths,
} from '../src/index.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swarm-release-dir-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function freshDir(name: string, releases: string[] = []): Promise<ReleaseDirPaths> {
  const paths = releaseDirPaths(join(scratch, name));
  for (const id of releases) await mkdir(releaseDir(paths, id), { recursive: true });
  await mkdir(paths.releases, { recursive: true });
  return paths;
}

describe('the current link', () => {
  it('points current at a release with a relative link, and flips it in place', async () => {
    const paths = await freshDir('flip', ['a', 'b']);
    assert.equal(await readCurrent(paths), null);
    await pointCurrentAt(paths, 'a');
    assert.equal(await readlink(paths.current), join('releases', 'a'));
    await pointCurrentAt(paths, 'b');
    assert.equal(await readCurrent(paths), 'b');
    assert.equal(await resolveCurrent(paths, 'b'), releaseDir(paths, 'b'));
    await assert.rejects(resolveCurrent(paths, 'a'), { code: 'SWARM_ERR_UPDATER_INTERNAL' });
    // No temporary link is left next to it.
    assert.deepEqual((await readdir(paths.root)).sort(), ['current', 'releases']);
    await removeCurrent(paths);
    assert.equal(await readCurrent(paths), null);
    await removeCurrent(paths); // idempotent
  });

  it('refuses a current that is not a symlink, naming it', async () => {
    const paths = await freshDir('not-a-link');
    await mkdir(paths.current);
    await assert.rejects(readCurrent(paths), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SWARM_ERR_UPDATER_INTERNAL');
      assert.match(err.message, /is not a symlink; move it away/);
      return true;
    });
  });
});

describe('staging and deletion', () => {
  it('names staging directories so that they are never releases, and removes them with any trash', async () => {
    const paths = await freshDir('staging', ['1.0.0-abc']);
    const staged = stagingDir(paths, 'op-1');
    assert.equal(staged, join(paths.releases, '.staging-op-1'));
    await mkdir(join(staged, 'tree'), { recursive: true });
    await mkdir(stagingDir(paths)); // a random name
    await mkdir(join(paths.releases, '.trash-0a1b'));
    const removed = await removeStaging(paths);
    assert.equal(removed.length, 3);
    assert.ok(removed.includes('.staging-op-1') && removed.includes('.trash-0a1b'));
    assert.deepEqual(await readdir(paths.releases), ['1.0.0-abc']);
    assert.deepEqual(await removeStaging(releaseDirPaths(join(scratch, 'never-made'))), []);
  });

  it('deletes a release whole (through the trash), and tolerates one already gone', async () => {
    const paths = await freshDir('delete', ['old', 'keep']);
    await writeFile(join(releaseDir(paths, 'old'), 'file'), 'x');
    assert.equal(await releaseExists(paths, 'old'), true);
    await removeRelease(paths, 'old');
    assert.equal(await releaseExists(paths, 'old'), false);
    await removeRelease(paths, 'old');
    assert.deepEqual(await readdir(paths.releases), ['keep']);
  });
});

describe('durable writes', () => {
  it('replaces a file with its mode from the first byte, leaving no temp file', async () => {
    const dir = await mkdtemp(join(scratch, 'write-'));
    const file = join(dir, 'key.pem');
    await writeFileAtomic(file, 'secret', 0o600);
    assert.equal((await lstat(file)).mode & 0o777, 0o600);
    await writeFileDurable(join(dir, 'state.json'), '{"a":1}\n');
    await writeFileDurable(join(dir, 'state.json'), '{"a":2}\n');
    assert.equal(await readFile(join(dir, 'state.json'), 'utf8'), '{"a":2}\n');
    assert.equal((await lstat(join(dir, 'state.json'))).mode & 0o777, 0o644);
    assert.deepEqual((await readdir(dir)).sort(), ['key.pem', 'state.json']);
  });

  it('keeps the old content and removes its temp file when the rename fails', async () => {
    const dir = await mkdtemp(join(scratch, 'fail-'));
    const target = join(dir, 'state.json');
    await mkdir(target); // rename(file, directory) fails with EISDIR
    await writeFile(join(target, 'inside'), 'old');
    await assert.rejects(writeFileDurable(target, 'new'), { code: 'EISDIR' });
    assert.deepEqual(await readdir(dir), ['state.json']);
    assert.equal(await readFile(join(target, 'inside'), 'utf8'), 'old');
  });

  it('fails without writing anything in a directory it may not write', { skip: process.getuid?.() === 0 }, async () => {
    const dir = await mkdtemp(join(scratch, 'ro-'));
    await chmod(dir, 0o500);
    await assert.rejects(writeFileDurable(join(dir, 'state.json'), 'x'), { code: 'EACCES' });
    await chmod(dir, 0o700);
    assert.deepEqual(await readdir(dir), []);
  });

  it('recognises only its own temp names', () => {
    assert.equal(isAtomicWriteTemp('state.json', '.state.json.0a1b2c3d4e5f.tmp'), true);
    assert.equal(isAtomicWriteTemp('state.json', '.state.json.tmp'), false);
    assert.equal(isAtomicWriteTemp('state.json', '.agent.pid.0a1b.tmp'), false);
    assert.equal(isAtomicWriteTemp('state.json', 'state.json'), false);
  });
});

describe('process identity', () => {
  it('names a process by PID and start time: another start time is not alive', async () => {
    const me = await processIdentity(process.pid);
    assert.ok(me && /^\d+$/.test(me.startTime));
    assert.equal(await isAlive(me), true);
    assert.equal(await isAlive({ pid: process.pid, startTime: String(Number(me.startTime) + 1) }), false);
    assert.equal(await processIdentity(0), null);
    assert.equal(await processIdentity(-5), null);
  });

  it('a zombie (exited, not yet reaped) is not running', async () => {
    // The child exits at once; its parent (a shell) does not reap it for a second.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 2'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(String(d)))),
    );
    let state = '';
    for (let i = 0; i < 100 && state !== 'Z'; i++) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(state, 'Z', 'the child should be a zombie while sleep holds it');
    assert.equal(await isRunning(pid), false);
    assert.equal(await isRunning(process.pid), true);
    parent.kill();
  });
});
