/**
 * Kill at every step (issue 7 §1), fast subset: a representative handful of fault points —
 * one per kind of state the install directory can be in when the updater dies — each run
 * by a real updater process that SIGKILLs itself there, then a restart and every invariant.
 * The whole table (every point of update, first install and rollback) is
 * test/reliability/long/kill-every-point.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKillWorld, killRow, runKillCase, type KillCase, type KillWorld } from './helpers/kill-table.js';
import { killProcessesUnder } from './helpers/processes.js';
import { Results } from './helpers/results.js';
import { createPkiFixture, type PkiFixture } from './helpers/package-helpers.js';

const CASES: (KillCase & { why: string })[] = [
  { operation: 'update', point: 'during:probe', why: 'the uncommitted release’s agent running' },
  { operation: 'update', point: 'after:commit', why: 'committed, not yet pruned' },
  { operation: 'first-install', point: 'after:restart', why: 'nothing committed to fall back to' },
  { operation: 'rollback', point: 'before:commit', why: 'a rollback probed but not committed' },
];

let fx: PkiFixture;
let world: KillWorld;
const results = new Results('kill-points', 'fast');

before(async () => {
  fx = await createPkiFixture();
  world = await createKillWorld(fx);
});

after(async () => {
  const survived = results.rows.filter((r) => r['invariants ok'] && r['next update ok']).length;
  await results.finish('Kill at every step — representative points', {
    'cases run': results.rows.length,
    'kills survived': survived,
  });
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
    });
  }
});
