// An updater killed while staging an updater release (extracting into
// `<self-dir>/releases/.staging-*`) leaves a half-written tree that nothing else removes:
// the supervisor clears it before it starts an updater, when none can be staging.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@swarm/log';
import { runSupervisor } from '../src/index.js';
import { FAKE_RELEASE_ID, createFakeSelfDir, type FakeSelfDir } from './helpers/fake-self-dir.js';

let self: FakeSelfDir;

before(async () => {
  self = await createFakeSelfDir();
});

after(async () => {
  await self.cleanup();
});

it('staging left by an interrupted self-update is removed before an updater starts; releases stay', async () => {
  const staging = join(self.paths.releases, '.staging-0b1c2d3e');
  await mkdir(join(staging, 'lib'), { recursive: true });
  await writeFile(join(staging, 'lib', 'half-written.mjs'), 'export const x = ');

  const stop = new AbortController();
  const running = runSupervisor({
    selfDir: self.paths.root,
    updaterArgs: ['--self-dir', self.paths.root],
    env: { ...process.env, FAKE_UPDATER_LOG: self.log },
    health: { host: '127.0.0.1', port: 9, caPem: '', certPem: '', keyPem: '' },
    stopGraceMs: 2000,
    log: createLogger({ name: 'supervisor', level: 'silent' }),
    signal: stop.signal,
  });
  try {
    for (const deadline = Date.now() + 15_000; (await readFile(self.log, 'utf8')) === ''; await sleep(25)) {
      if (Date.now() > deadline) throw new Error('the updater never started');
    }
    assert.deepEqual(await readdir(self.paths.releases), [FAKE_RELEASE_ID]);
  } finally {
    stop.abort();
    await running;
  }
});
