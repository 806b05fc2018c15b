import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cloneInstall,
  fixtureRelease,
  installTemplate,
  manyFileRelease,
  startInProcess,
  startProcess,
  type KnownRelease,
} from './fixture.js';
import { checkHost } from './invariants.js';
import { killProcessesUnder } from './processes.js';
import { prng } from './prng.js';
import { Results } from './results.js';
import { createPkiFixture, freePort, readJournal, type PkiFixture } from './package-helpers.js';

/** Parameters of a random-interruption run. */
export interface RandomKillOptions {
  readonly variant: 'fast' | 'long';
  /** How many updates are killed. */
  readonly iterations: number;
  /** Files of each release (0: the small fixture release). */
  readonly files: number;
  readonly seed: number;
}

/**
 * Random interruption (issue 7 §2): `iterations` times, start a real update of v1 → v2 in an
 * updater process (v0 is pruned by it, so deletion is part of the window too), SIGKILL the
 * process after a seeded random delay within the measured duration of an uninterrupted
 * update, restart, check every invariant (the host is on v1 or, if the kill came after the
 * commit, on v2 — complete either way), then push v2 again: it must succeed.
 */
export function randomKillSuite(options: RandomKillOptions): void {
  const { variant, iterations, files, seed } = options;
  let fx: PkiFixture;
  let v0: KnownRelease;
  let v1: KnownRelease;
  let v2: KnownRelease;
  let template: string;
  /** Duration of an uninterrupted update, the window kills are drawn from. */
  let windowMs = 0;
  const results = new Results('random-interruption', variant, { seed, iterations, files });

  before(async () => {
    fx = await createPkiFixture();
    const root = join(fx.root, 'releases');
    const make = (version: string) =>
      files > 0 ? manyFileRelease(root, version, files) : fixtureRelease(root, { version });
    [v0, v1, v2] = await Promise.all([make('0.9.0'), make('1.0.0'), make('2.0.0')]);
    template = await installTemplate(fx, [v0, v1]);
    // Calibrate: one uninterrupted update, in a process, exactly as the killed ones run.
    const installDir = await cloneInstall(fx, template);
    const p = await startProcess(fx, installDir, await freePort());
    const t0 = performance.now();
    const res = await p.client.push(v2);
    windowMs = Math.round(performance.now() - t0);
    p.process.child.kill('SIGTERM');
    await p.process.exited;
    assert.equal(res.status, 200, res.text);
  });

  after(async () => {
    const survived = results.rows.filter((r) => r['invariants ok'] && r['next update ok']).length;
    await results.finish(`Random interruption of v1 → v2 (${files || 'a few'} files per release)`, {
      'updates killed': results.rows.length,
      'kills survived': survived,
      'kill window (ms)': windowMs,
      'phases hit': [...new Set(results.rows.map((r) => String(r['phase at kill'])))].join(', '),
    });
    await killProcessesUnder(fx.root);
    await fx.cleanup();
  });

  describe(`${iterations} updates killed at seeded random times (seed ${seed})`, () => {
    it(`each one recovers to a complete committed release and the next update succeeds`, async () => {
      const rng = prng(seed);
      for (let i = 0; i < iterations; i += 1) {
        const delay = rng.int(0, windowMs);
        const installDir = await cloneInstall(fx, template);
        const agentPort = await freePort();
        const p = await startProcess(fx, installDir, agentPort);
        const push = p.client.push(v2).then(
          (a) => `answered ${a.status}`,
          () => 'connection lost',
        );
        // The random wait is the point of this test: it picks the moment of the crash.
        await sleep(delay);
        p.process.child.kill('SIGKILL');
        await p.process.exited;
        const answered = await push;
        const atKill = await readJournal(installDir);
        const committed = atKill.active?.id === v2.id;
        const phase = atKill.inFlight?.phase ?? (committed ? 'committed' : 'not started');

        const u = await startInProcess(fx, installDir, agentPort);
        let problems: string[] = [];
        let nextOk = false;
        try {
          problems = await checkHost(
            { installDir, agentPort, client: u.client },
            { active: committed ? v2 : v1, prev: committed ? v1 : v0 },
          );
          const again = await u.client.push(v2);
          nextOk =
            again.status === 200 &&
            (await checkHost({ installDir, agentPort, client: u.client }, { active: v2, prev: v1 })).length === 0;
        } finally {
          await u.close();
        }
        results.add({
          kill: i + 1,
          'after (ms)': delay,
          'phase at kill': phase,
          client: answered,
          'active after restart': committed ? v2.version : v1.version,
          'invariants ok': problems.length === 0,
          'next update ok': nextOk,
        });
        assert.deepEqual(problems, [], `kill ${i + 1} after ${delay} ms (phase ${phase}, seed ${seed})`);
        assert.equal(nextOk, true, `the update after kill ${i + 1} failed`);
      }
    });
  });
}
