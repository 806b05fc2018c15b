// Stage by day, switch at night (issue 13, the parts built so far): the real CLI against
// three real `swarm updater` processes. `swarm update --stage-only` stages everywhere with
// `current` and the agents untouched; the same `swarm update` then activates what is staged
// without transferring it again; a staged release that fails its probe is rolled back on the
// canary and the rest are skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Fleet } from './helpers/fleet.js';
import { agentRelease } from './helpers/release-trees.js';
import { outcomes, type OperationJson, type RolloutJson, type StatusJson } from './helpers/rollout-json.js';

const HOSTS = ['s1', 's2', 's3'] as const;
const each = <T>(value: T) => Object.fromEntries(HOSTS.map((h) => [h, value]));

interface Plan {
  readonly hosts: readonly { readonly host: string; readonly action: string; readonly staged: { id: string } | null }[];
}

describe('swarm update --stage-only, then swarm update: a switch without a transfer', () => {
  let fleet: Fleet;
  const trees = { v1: '', v2: '', broken: '', v4: '' };

  before(async () => {
    fleet = await Fleet.create({ name: 'stage', hosts: HOSTS });
    const t = (name: string) => join(fleet.root, 'trees', name);
    trees.v1 = await agentRelease(t('v1'), '1.0.0');
    trees.v2 = await agentRelease(t('v2'), '2.0.0');
    trees.broken = await agentRelease(t('broken'), '3.0.0', { unhealthy: true });
    trees.v4 = await agentRelease(t('v4'), '4.0.0');
    const first = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v1]);
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await fleet?.close();
  });

  const pids = () => Promise.all(HOSTS.map((h) => fleet.agentPid(h)));

  it('--stage-only: every host staged (exit 0), current and every agent untouched, staged in /health and status', async () => {
    const agentsBefore = await pids();
    const staged = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v2, '--stage-only']);
    assert.equal(staged.code, 0, staged.stderr);
    assert.deepEqual(outcomes(staged.json), each('staged'));
    assert.deepEqual(await pids(), agentsBefore, 'no agent was restarted');
    for (const host of HOSTS) {
      const health = await fleet.health(host);
      assert.equal(health.active?.version, '1.0.0', `${host}: current is untouched`);
      assert.equal(health.staged?.version, '2.0.0');
      assert.equal(health.lastUpdate?.kind, 'stage');
    }
    const status = await fleet.swarmJson<StatusJson[]>(['status']);
    assert.deepEqual(
      status.json.map((s) => s.staged?.version),
      HOSTS.map(() => '2.0.0'),
    );
    const table = await fleet.swarm(['status']);
    assert.match(table.stdout, /STAGED/);
    // Again: already staged, nothing sent.
    const again = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v2, '--stage-only']);
    assert.deepEqual(outcomes(again.json), each('staged'));
    const history = await fleet.swarmJson<OperationJson[]>(['history', '--limit', '1']);
    assert.equal(history.json[0]!.kind, 'stage');
  });

  it('the plan says the staged release is activated; swarm update activates it on every host without an upload', async () => {
    const plan = await fleet.swarmJson<Plan>(['update', '--all', '--tree', trees.v2, '--dry-run']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(
      plan.json.hosts.map((h) => h.action),
      HOSTS.map(() => 'activate (staged)'),
    );
    const agentsBefore = await pids();
    const update = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v2]);
    assert.equal(update.code, 0, update.stderr);
    assert.deepEqual(outcomes(update.json), each('updated'));
    const agentsAfter = await pids();
    for (const [i, host] of HOSTS.entries()) {
      const health = await fleet.health(host);
      assert.equal(health.active?.version, '2.0.0');
      assert.equal(health.prev?.version, '1.0.0');
      assert.equal(health.staged, null);
      // POST /activate, not /update: the host received no upload for the switch.
      assert.equal(health.lastUpdate?.kind, 'activate', `${host} was sent the release again`);
      assert.notEqual(agentsAfter[i], agentsBefore[i], `${host}: the agent runs the new release`);
    }
  });

  it('a staged release that fails its probe: the canary rolled back (old code, new pid), the others skipped, exit 1', async () => {
    const staged = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.broken, '--stage-only']);
    assert.equal(staged.code, 0, staged.stderr);
    assert.deepEqual(outcomes(staged.json), each('staged'));
    const canaryPid = await fleet.agentPid('s1');
    const update = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.broken]);
    assert.equal(update.code, 1);
    assert.deepEqual(outcomes(update.json), { s1: 'rolled_back', s2: 'skipped', s3: 'skipped' });
    const s1 = await fleet.health('s1');
    assert.equal(s1.active?.version, '2.0.0');
    assert.equal(s1.staged, null, 'a release that failed on the host is no longer staged there');
    assert.notEqual(await fleet.agentPid('s1'), canaryPid);
    assert.equal((await fleet.health('s2')).staged?.version, '3.0.0', 'a skipped host keeps its stage');
  });

  it('swarm activate: the latest stage-only rollout, a switch on every host without a transfer; again: up_to_date', async () => {
    // s1 no longer holds the broken release staged (it failed there): nothing to activate.
    const refused = await fleet.swarmJson<RolloutJson>(['activate', '--host', 's1']);
    assert.equal(refused.code, 1);
    assert.equal(refused.json.results[0]!.outcome, 'failed');
    assert.equal(refused.json.results[0]!.error?.code, 'SWARM_ERR_NOTHING_STAGED');

    const staged = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees.v4, '--stage-only']);
    assert.deepEqual(outcomes(staged.json), each('staged'));
    const plan = await fleet.swarmJson<Plan>(['activate', '--all', '--dry-run']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(
      plan.json.hosts.map((h) => h.action),
      HOSTS.map(() => 'activate'),
    );
    const activated = await fleet.swarmJson<RolloutJson>(['activate', '--all']);
    assert.equal(activated.code, 0, activated.stderr);
    assert.deepEqual(outcomes(activated.json), each('updated'));
    assert.equal(activated.json.release?.version, '4.0.0');
    for (const host of HOSTS) {
      const health = await fleet.health(host);
      assert.equal(health.active?.version, '4.0.0');
      assert.equal(health.lastUpdate?.kind, 'activate');
    }
    const again = await fleet.swarmJson<RolloutJson>(['activate', '--all', '--sha256', activated.json.release!.sha256]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(outcomes(again.json), each('up_to_date'));
    const history = await fleet.swarmJson<OperationJson[]>(['history', '--limit', '2']);
    assert.deepEqual(
      history.json.map((o) => o.kind),
      ['activate', 'activate'],
    );
  });

  it('swarm activate refuses a malformed digest (2) and one no rollout staged (1), contacting no host', async () => {
    const before = await Promise.all(HOSTS.map((h) => fleet.journal(h)));
    const bad = await fleet.swarm(['activate', '--all', '--sha256', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SWARM_ERR_USAGE_INVALID: --sha256 takes 64 hex digits/);
    const unknown = await fleet.swarm(['activate', '--all', '--sha256', 'e'.repeat(64)]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /SWARM_ERR_NOTHING_STAGED/);
    const both = await fleet.swarm(['activate', '--all', '--sha256', 'e'.repeat(64), '--tree', trees.v4]);
    assert.equal(both.code, 2);
    assert.deepEqual(await Promise.all(HOSTS.map((h) => fleet.journal(h))), before, 'no host was touched');
  });
});
