/**
 * Filesystem faults (issue 7 §3), long variant. First a sweep: at every site where an
 * update writes (helpers/fs-faults.ts FAULT_SITES), the 1st, 2nd, … matching call fails in
 * turn (ENOSPC, EIO, EACCES rotating) until an update goes by without reaching it. Then
 * SWARM_RELIABILITY_FS_FAULTS (default 30) seeded random faults where up to three matching
 * calls in a row fail — a disk that stays full for a moment. Every failure must end in a
 * catalogued code with the host untouched; when a second failure hit the journal write that
 * records the first one, the updater refuses operations until it is restarted (as
 * documented in wiki/remote-updates.md), and the restart must then find the host intact.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloneInstall, fixtureRelease, installTemplate, type KnownRelease } from '../helpers/fixture.js';
import {
  ERRNOS,
  FAULT_SITES,
  FaultyUpdater,
  controlFile,
  runFaultCase,
  seededFault,
  type FaultOutcome,
} from '../helpers/fs-faults.js';
import { checkHost } from '../helpers/invariants.js';
import { killProcessesUnder } from '../helpers/processes.js';
import { intParam, prng } from '../helpers/prng.js';
import { Results } from '../helpers/results.js';
import { createPkiFixture, freePort, readJournal, type PkiFixture } from '../helpers/package-helpers.js';

const SEED = intParam('SWARM_RELIABILITY_SEED', 20261122);
const RANDOM = intParam('SWARM_RELIABILITY_FS_FAULTS', 30);

let fx: PkiFixture;
let u: FaultyUpdater;
let host: { installDir: string; agentPort: number };
let active: KnownRelease;
let made = 0;
const results = new Results('fs-faults', 'long', { seed: SEED, random: RANDOM });

/** A release never seen by the host, so the update goes through extraction. */
const fresh = () => fixtureRelease(join(fx.root, 'releases'), { version: `2.${made++}.0` });

before(async () => {
  fx = await createPkiFixture();
  const v1 = await fixtureRelease(join(fx.root, 'releases'), { version: '1.0.0' });
  const installDir = await cloneInstall(fx, await installTemplate(fx, [v1]));
  host = { installDir, agentPort: await freePort() };
  u = await FaultyUpdater.start(fx, installDir, host.agentPort, controlFile(fx.root));
  active = v1;
});

after(async () => {
  await results.finish('Filesystem faults — sweep and seeded', {
    'cases run': results.rows.length,
    'faults fired': results.rows.filter((r) => r.fired !== 'no').length,
    'ended cleanly': results.rows.filter((r) => r['invariants ok'] && r.restart !== 'yes').length,
    'needed a restart (documented)': results.rows.filter((r) => r.restart === 'yes').length,
  });
  if (u) await u.stop().catch(() => undefined);
  await killProcessesUnder(fx.root);
  await fx.cleanup();
});

/**
 * When undoing a failure could not be journaled, the updater keeps the operation in flight
 * and refuses new ones until a restart recovers it (wiki/remote-updates.md). Check that, do
 * the restart, and return the violations left after it.
 */
async function restartIfStuck(outcome: FaultOutcome): Promise<{ problems: string[]; restarted: boolean }> {
  const journal = await readJournal(host.installDir);
  if (!journal.inFlight) return { problems: outcome.problems, restarted: false };
  const refused = await u.client.push(await fresh());
  const problems: string[] = [];
  if (refused.status !== 500 || !/restart the updater/.test(refused.body?.message ?? ''))
    problems.push(`a stuck updater answered ${refused.status} ${refused.text.slice(0, 200)}`);
  assert.equal(await u.stop(), 0);
  u = await FaultyUpdater.start(fx, host.installDir, host.agentPort, controlFile(fx.root));
  problems.push(...(await checkHost({ ...host, client: u.client }, { active: outcome.active })));
  return { problems, restarted: true };
}

describe('sweep: every matching call of every site fails in turn', () => {
  for (const site of FAULT_SITES) {
    it(`${site.label} (${site.op})`, async () => {
      // maxNth is what one plain update makes; earlier failures can leave more to prune.
      for (let nth = 1; nth <= site.maxNth + 4; nth += 1) {
        const errno = ERRNOS[(nth - 1) % ERRNOS.length]!;
        const id = `${site.op}:${site.path}#${nth}`;
        const outcome = await runFaultCase(
          u,
          host,
          { id, label: site.label, faults: [{ op: site.op, path: site.path, nth, errno }] },
          await fresh(),
          active,
        );
        active = outcome.active;
        results.add(outcome.row);
        assert.deepEqual(outcome.problems, [], `${site.label}, call ${nth}, ${errno}`);
        if (!outcome.fired) break;
      }
    });
  }
});

describe('two failures in a row at each fsync of the install directory', () => {
  // The fsync after a journal rename is the one failure that leaves the journal on disk
  // ahead of the updater's memory (the new state is visible, the write reported failed); a
  // second failure right after it — the write recording the first — is a disk going bad.
  const site = FAULT_SITES.find((s) => s.label === 'fsync the install directory')!;
  it('each ends cleanly, or in the documented refuse-until-restart state that a restart clears', async () => {
    for (let nth = 1; nth <= site.maxNth + 4; nth += 1) {
      const id = `fsync×2#${nth}`;
      const outcome = await runFaultCase(
        u,
        host,
        { id, label: site.label, faults: [{ op: site.op, path: site.path, nth, times: 2, errno: 'EIO' }] },
        await fresh(),
        active,
      );
      const { problems, restarted } = await restartIfStuck(outcome);
      active = outcome.active;
      results.add({ ...outcome.row, 'invariants ok': problems.length === 0, restart: restarted ? 'yes' : '-' });
      assert.deepEqual(problems, [], `${site.label}, calls ${nth} and ${nth + 1}`);
      if (!outcome.fired) break;
    }
  });
});

describe(`${RANDOM} seeded random faults, up to 3 calls in a row (seed ${SEED})`, () => {
  it('each ends cleanly, or in the documented refuse-until-restart state that a restart clears', async () => {
    const rng = prng(SEED);
    for (let i = 0; i < RANDOM; i += 1) {
      const { site, spec } = seededFault(rng, 3);
      const outcome = await runFaultCase(
        u,
        host,
        { id: `r${i}`, label: site.label, faults: [spec] },
        await fresh(),
        active,
      );
      const { problems, restarted } = await restartIfStuck(outcome);
      active = outcome.active;
      results.add({ ...outcome.row, 'invariants ok': problems.length === 0, restart: restarted ? 'yes' : '-' });
      assert.deepEqual(problems, [], `seed ${SEED}, case r${i}: ${site.label} ${JSON.stringify(spec)}`);
    }
  });

  it('after all of it, a graceful restart finds a consistent journal and the same release', async () => {
    assert.equal(await u.stop(), 0);
    u = await FaultyUpdater.start(fx, host.installDir, host.agentPort, controlFile(fx.root));
    assert.deepEqual(await checkHost({ ...host, client: u.client }, { active }), []);
  });
});
