// Regression tests for an updater orphaned by a dead supervisor (found by the self-update
// kill table, test/reliability: a supervisor SIGKILLed right after starting an updater left
// that updater running for good — it never saw its IPC channel — and every updater the
// restarted supervisor started then failed with SWARM_ERR_UPDATER_LOCKED).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, it } from 'node:test';
import { createLogger } from '@swarm/log';
import { runSupervisor } from '../src/index.js';
import { findUpdaterProcesses, stopOrphanedUpdaters } from '../src/orphaned-updaters.js';
import type { FakeSelfDir } from './helpers/fake-self-dir.js';
import { alive, fakeSelfDirSuite, until } from './helpers/suite.js';

const SUPERVISOR_MAIN = fileURLToPath(new URL('./fixtures/supervisor-main.ts', import.meta.url));
/** The package directory: `--import tsx` resolves from the working directory. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const silent = createLogger({ name: 'supervisor', level: 'silent' });

const { self: selfOfTest, started, spawnNode } = fakeSelfDirSuite();
/** Each test's own self directory. */
let self: FakeSelfDir;
beforeEach(() => {
  self = selfOfTest();
});

describe('updaters left running by a dead supervisor', () => {
  it('a SIGKILLed supervisor’s updater is stopped by the next supervisor before it starts its own', async () => {
    const env = { ...process.env, FAKE_UPDATER_LOG: self.log };
    const first = spawnNode(['--import', 'tsx', SUPERVISOR_MAIN, self.paths.root], PACKAGE_DIR, env);
    const [orphan] = await until('the first supervisor to start an updater', async () => {
      const pids = await started();
      return pids.length === 1 && pids;
    });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // The situation under test: the updater outlived its supervisor.
    assert.equal(alive(orphan!), true, 'the fake updater should outlive its supervisor');
    assert.deepEqual(await findUpdaterProcesses(self.paths), [orphan]);

    const stop = new AbortController();
    const second = runSupervisor({
      selfDir: self.paths.root,
      updaterArgs: ['--self-dir', self.paths.root],
      env,
      health: { host: '127.0.0.1', port: 9, caPem: '', certPem: '', keyPem: '' },
      stopGraceMs: 2000,
      log: silent,
      signal: stop.signal,
    });
    try {
      const [, next] = await until('the second supervisor to start its updater', async () => {
        const pids = await started();
        return pids.length === 2 && pids;
      });
      assert.equal(alive(orphan!), false, `the orphaned updater ${orphan} still runs next to ${next}`);
      assert.deepEqual(await findUpdaterProcesses(self.paths), [next], 'exactly one updater runs');
    } finally {
      stop.abort();
      await second;
    }
    assert.deepEqual(await findUpdaterProcesses(self.paths), [], 'a stopped supervisor leaves no updater');
  });

  it('only processes that run from a release with this self directory in their arguments are updaters', async () => {
    const keep = (args: string[]) => spawnNode(args, self.releaseDir, { ...process.env, FAKE_UPDATER_LOG: self.log });
    // An operator's shell (or anything else) sitting in a release directory…
    const bystander = keep(['-e', 'setInterval(() => {}, 1000)']);
    // …an updater of another self directory that happens to run from here…
    const foreign = keep(['fake-updater.mjs', '--self-dir', self.root]);
    // …and a real orphan of this one.
    const orphan = keep(['fake-updater.mjs', '--bundle', '/b', '--self-dir', self.paths.root]);
    await until('the three processes to run from the release', async () => {
      const started = await Promise.all(
        [bystander, foreign, orphan].map((c) => readFile(`/proc/${c.pid}/cmdline`, 'utf8').catch(() => '')),
      );
      // Until exec, a child's cmdline is still the test runner's.
      return started.every((argv) => argv.startsWith(process.execPath) && !argv.includes('--test'));
    });

    assert.deepEqual(await findUpdaterProcesses(self.paths), [orphan.pid]);
    assert.deepEqual(await stopOrphanedUpdaters(self.paths, 2000, silent), [orphan.pid]);
    assert.equal(alive(orphan.pid!), false);
    assert.equal(alive(bystander.pid!), true, 'a bystander was signalled');
    assert.equal(alive(foreign.pid!), true, 'another self directory’s updater was signalled');
  });
});
