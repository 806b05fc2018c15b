/**
 * Kill at every step (issue 7 §1), fast subset: a representative handful of fault points —
 * one per kind of state the install directory can be in when the updater dies — each run
 * by a real updater process that SIGKILLs itself there, then a restart and every invariant;
 * and three of a self-update, where a real `swarm updater --self-dir` supervisor dies
 * mid-switch or mid-fallback and is restarted as systemd would. The whole tables (every
 * point of update, first install, rollback and self-update) are
 * test/reliability/long/kill-every-point.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKillWorld, killRow, runKillCase, type KillCase, type KillWorld } from './helpers/kill-table.js';
import {
  SELF_UPDATE_CASES,
  createSelfKillWorld,
  runSelfKillCase,
  selfKillRow,
  selfKillSummary,
  type SelfKillWorld,
} from './helpers/self-kill-table.js';
import { killProcessesUnder } from './helpers/processes.js';
import { Results } from './helpers/results.js';
import { createPkiFixture, type PkiFixture } from './helpers/package-helpers.js';

const CASES: (KillCase & { why: string })[] = [
  { operation: 'update', point: 'during:probe', why: 'the uncommitted release’s agent running' },
  { operation: 'update', point: 'after:commit', why: 'committed, not yet pruned' },
  { operation: 'first-install', point: 'after:restart', why: 'nothing committed to fall back to' },
  { operation: 'rollback', point: 'before:commit', why: 'a rollback probed but not committed' },
  { operation: 'stage', point: 'during:install', why: 'a stage half installed; current untouched' },
  { operation: 'activate', point: 'after:restart', why: 'the staged release’s agent started, not probed' },
];

const SELF_CASES: { point: string; why: string }[] = [
  { point: 'supervisor:after:flip', why: 'current names the new updater, none runs' },
  { point: 'supervisor:after:start-new', why: 'the new updater orphaned as it starts (regression)' },
  { point: 'supervisor:after:fallback-flip', why: 'a fallback half done' },
];

let fx: PkiFixture;
let world: KillWorld;
let selfWorld: SelfKillWorld;
const results = new Results('kill-points', 'fast');
const selfResults = new Results('self-update-kill-points', 'fast');

before(async () => {
  fx = await createPkiFixture();
  [world, selfWorld] = await Promise.all([createKillWorld(fx), createSelfKillWorld(fx)]);
});

after(async () => {
  const survived = results.rows.filter(
    (r) => r['invariants ok'] && r['next update ok'] && r['staged usable'] !== false,
  ).length;
  await results.finish('Kill at every step — representative points', {
    'cases run': results.rows.length,
    'kills survived': survived,
  });
  await selfResults.finish(
    'Kill at every step — self-update, representative points',
    selfKillSummary(selfResults.rows),
  );
  await killProcessesUnder(fx.root);
  await fx.cleanup();
});

describe('kill -9 at a fault point, restart, invariants (fast subset)', () => {
  for (const kase of CASES) {
    it(`${kase.operation} killed at ${kase.point} (${kase.why}) → recovered, next update succeeds`, async () => {
      const outcome = await runKillCase(world, kase);
      results.add(killRow(outcome));
      assert.equal(outcome.killed, true, `the updater was not killed at ${kase.point}`);
      assert.deepEqual(outcome.problems, []);
      assert.equal(outcome.nextUpdateOk, true, 'the next update after the restart failed');
      assert.notEqual(outcome.stagedUsable, false, 'the staged release could not be activated after the restart');
    });
  }
});

describe('self-update: kill -9 of the supervisor mid-switch, restart, one updater, invariants (fast subset)', () => {
  for (const { point, why } of SELF_CASES) {
    const kase = SELF_UPDATE_CASES.find((c) => c.point === point)!;
    it(`update-self, supervisor killed at ${point} (${why}) → ${kase.runs} updater alone, next self-update succeeds`, async () => {
      const outcome = await runSelfKillCase(selfWorld, kase);
      selfResults.add(selfKillRow(outcome));
      assert.deepEqual(outcome.problems, []);
      assert.equal(outcome.nextOk, true, 'the next self-update after the restart failed');
    });
  }
});
