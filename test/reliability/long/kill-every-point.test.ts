/**
 * Kill at every step (issue 7 §1), the whole table: every fault point of an update over a
 * committed release, of a host's first update, and of a rollback — each run by a real
 * updater process that SIGKILLs itself there (SWARM_TEST_KILL_AT), then a restart, every
 * invariant, and the next update. Then every fault point of a self-update (POST
 * /update-self): the updater's steps and the supervisor's switch, fallback and recovery, each
 * run by a real `swarm updater --self-dir` process (see helpers/self-kill-table.ts). A
 * cross-check reads the updater's and the supervisor's sources for fault points and steps,
 * so a new one cannot go untested.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SUPERVISOR_FAULT_POINTS } from '@swarm/supervisor';
import {
  ACTIVATE_POINTS,
  ROLLBACK_POINTS,
  STAGE_POINTS,
  UPDATE_POINTS,
  allKillCases,
  createKillWorld,
  killRow,
  runKillCase,
  type KillWorld,
} from '../helpers/kill-table.js';
import {
  SELF_UPDATE_CASES,
  SELF_UPDATE_POINTS,
  createSelfKillWorld,
  runSelfKillCase,
  selfKillRow,
  selfKillSummary,
  type SelfKillWorld,
} from '../helpers/self-kill-table.js';
import { killProcessesUnder } from '../helpers/processes.js';
import { Results } from '../helpers/results.js';
import { createPkiFixture, type PkiFixture } from '../helpers/package-helpers.js';

const UPDATER_SRC = fileURLToPath(new URL('../../../packages/updater/src/', import.meta.url));
const SUPERVISOR_SRC = fileURLToPath(new URL('../../../packages/supervisor/src/', import.meta.url));

let fx: PkiFixture;
let world: KillWorld;
let selfWorld: SelfKillWorld;
const results = new Results('kill-points', 'long');
const selfResults = new Results('self-update-kill-points', 'long');

before(async () => {
  fx = await createPkiFixture();
  [world, selfWorld] = await Promise.all([createKillWorld(fx), createSelfKillWorld(fx)]);
});

after(async () => {
  await results.finish('Kill at every step — every fault point', {
    'fault points': new Set(results.rows.map((r) => r.point)).size,
    'cases run': results.rows.length,
    'kills survived': results.rows.filter(
      (r) => r['invariants ok'] && r['next update ok'] && r['staged usable'] !== false,
    ).length,
  });
  await selfResults.finish('Kill at every step — self-update, every fault point', selfKillSummary(selfResults.rows));
  await killProcessesUnder(fx.root);
  await fx.cleanup();
});

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(await readFile(path, 'utf8'));
  }
  return out;
}

describe('the tables cover every fault point in the updater and the supervisor', () => {
  it('every step run through the runner and every during: point has a row', async () => {
    const text = (await sources(UPDATER_SRC)).join('\n');
    const steps = new Set([...text.matchAll(/\.step\(\s*'([a-z-]+)'/g)].map((m) => m[1]!));
    const during = new Set([...text.matchAll(/faultPoint\(\s*'(during:[a-z-]+)'/g)].map((m) => m[1]!));
    assert.ok(steps.size >= 8 && during.size >= 3, 'the source scan found the fault points');
    const inSource = [...[...steps].flatMap((s) => [`before:${s}`, `after:${s}`]), ...during];
    const covered = new Set([
      ...UPDATE_POINTS,
      ...ROLLBACK_POINTS,
      ...STAGE_POINTS,
      ...ACTIVATE_POINTS,
      ...SELF_UPDATE_POINTS,
    ]);
    assert.deepEqual(
      inSource.filter((p) => !covered.has(p)),
      [],
      'fault points in packages/updater/src without a row in the kill tables',
    );
  });

  it('every fault point of the supervisor is declared and has a self-update row, and every row names a real point', async () => {
    const text = (await sources(SUPERVISOR_SRC)).join('\n');
    const inSource = [...text.matchAll(/faultPoint\(\s*'(supervisor:[a-z:-]+)'/g)].map((m) => m[1]!).sort();
    assert.ok(inSource.length >= 10, 'the source scan found the supervisor’s fault points');
    assert.deepEqual(inSource, [...SUPERVISOR_FAULT_POINTS].sort(), 'faultPoint calls ≠ SUPERVISOR_FAULT_POINTS');
    const rows = SELF_UPDATE_POINTS.filter((p) => p.startsWith('supervisor:')).sort();
    assert.deepEqual(rows, inSource, 'supervisor fault points ≠ the self-update rows');
  });
});

describe('kill -9 at every fault point, restart, invariants', () => {
  for (const kase of allKillCases()) {
    it(`${kase.operation} killed at ${kase.point} → recovered, next update succeeds`, async () => {
      const outcome = await runKillCase(world, kase);
      results.add(killRow(outcome));
      assert.equal(outcome.killed, true, `the updater was not killed at ${kase.point}`);
      assert.deepEqual(outcome.problems, []);
      assert.equal(outcome.nextUpdateOk, true, 'the next update after the restart failed');
      assert.notEqual(outcome.stagedUsable, false, 'the staged release could not be activated after the restart');
    });
  }
});

describe('self-update: kill -9 at every fault point, restart, one updater, invariants (wiki/reference/guarantees.md#self-update-never-strands-a-host)', () => {
  for (const kase of SELF_UPDATE_CASES) {
    it(`update-self killed (${kase.dies}) at ${kase.firstKill ? `${kase.firstKill}, then ` : ''}${kase.point} → ${kase.runs} updater, next self-update succeeds`, async () => {
      const outcome = await runSelfKillCase(selfWorld, kase);
      selfResults.add(selfKillRow(outcome));
      assert.deepEqual(outcome.problems, []);
      assert.equal(outcome.nextOk, true, 'the next self-update after the restart failed');
    });
  }
});
