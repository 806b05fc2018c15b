// Gates and hooks around each host (wiki/rollouts.md#gates-and-hooks): the real CLI, three
// real updaters, real shell commands on the master. A gate says go (0), not now (75: asked
// again) or no; a hook after a committed host can fail it; the commands see the host and the
// release in their environment.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Fleet } from './helpers/fleet.js';
import { agentRelease } from './helpers/release-trees.js';
import { outcomes, type RolloutJson } from './helpers/rollout-json.js';

const HOSTS = ['g1', 'g2', 'g3'] as const;

describe('swarm update --before-host / --after-host', () => {
  let fleet: Fleet;
  const trees: Record<string, string> = {};
  const journals = () => Promise.all(HOSTS.map((h) => fleet.journal(h)));

  before(async () => {
    fleet = await Fleet.create({ name: 'gates', hosts: HOSTS });
    for (const v of ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0']) {
      trees[v] = await agentRelease(join(fleet.root, 'trees', v), v);
    }
    const first = await fleet.swarmJson<RolloutJson>(['update', '--all', '--tree', trees['1.0.0']!]);
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await fleet?.close();
  });

  it('a gate that says "not now" twice then go: the host waits, then is updated; the commands see the host and release', async () => {
    const dir = fleet.root;
    // Counts its calls per host; exits 75 on the first two.
    const gate = `n=$(cat "${dir}/$SWARM_HOST.calls" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/$SWARM_HOST.calls"; env | grep '^SWARM_' | sort > "${dir}/$SWARM_HOST.env"; [ $n -ge 3 ] || exit 75`;
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--host',
      'g1',
      '--tree',
      trees['2.0.0']!,
      '--before-host',
      gate,
      '--after-host',
      `echo undrained $SWARM_HOST`,
      '--gate-retry',
      '100ms',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { g1: 'updated' });
    assert.equal((await readFile(join(dir, 'g1.calls'), 'utf8')).trim(), '3');
    assert.equal((res.stderr.match(/\[g1\] gate: not now \(exit 75\)/g) ?? []).length, 2);
    assert.match(res.stderr, /^\[g1\] undrained g1$/m, 'the hook ran, its output on stderr prefixed with the host');
    const env = await readFile(join(dir, 'g1.env'), 'utf8');
    assert.match(env, /^SWARM_HOST=g1$/m);
    assert.match(env, /^SWARM_HOST_ADDRESS=127\.0\.0\.1$/m);
    assert.match(env, /^SWARM_RELEASE_NAME=agent$/m);
    assert.match(env, /^SWARM_RELEASE_VERSION=2\.0\.0$/m);
    assert.match(env, /^SWARM_RELEASE_SHA256=[0-9a-f]{64}$/m);
    assert.match(env, /^SWARM_ROLLOUT_ID=\d+$/m);
    assert.equal((await fleet.health('g1')).active?.version, '2.0.0');
  });

  it('a gate that refuses (exit 1): the canary failed GATE_REFUSED, the budget stops the rest, no host touched', async () => {
    const before = await journals();
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--all',
      '--tree',
      trees['3.0.0']!,
      '--before-host',
      'echo "alert firing on $SWARM_HOST" >&2; exit 1',
    ]);
    assert.equal(res.code, 1);
    assert.deepEqual(outcomes(res.json), { g1: 'failed', g2: 'skipped', g3: 'skipped' });
    const g1 = res.json.results.find((r) => r.host === 'g1')!;
    assert.equal(g1.error?.code, 'SWARM_ERR_GATE_REFUSED');
    assert.match(g1.error!.message, /exited 1 for g1: alert firing on g1/);
    assert.deepEqual(await journals(), before, 'a refused gate leaves every host as it was');
  });

  it('a gate command that does not exist: failed GATE_REFUSED with the shell’s message', async () => {
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--host',
      'g2',
      '--tree',
      trees['3.0.0']!,
      '--before-host',
      'no-such-gate-command --check',
    ]);
    assert.equal(res.code, 1);
    assert.equal(res.json.results[0]!.error?.code, 'SWARM_ERR_GATE_REFUSED');
    assert.match(res.json.results[0]!.error!.message, /exited 127 .*not found/);
  });

  it('a gate that never says go: skipped GATE_TIMEOUT (exit 1) without using the failure budget', async () => {
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--all',
      '--tree',
      trees['4.0.0']!,
      '--before-host',
      'exit 75',
      '--gate-retry',
      '100ms',
      '--gate-timeout',
      '300ms',
    ]);
    assert.equal(res.code, 1);
    assert.deepEqual(outcomes(res.json), { g1: 'skipped', g2: 'skipped', g3: 'skipped' });
    for (const r of res.json.results) assert.equal(r.error?.code, 'SWARM_ERR_GATE_TIMEOUT', 'each host asked its gate');
  });

  it('an after-host hook that fails: the host failed HOOK_FAILED with the new release active', async () => {
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--host',
      'g3',
      '--tree',
      trees['5.0.0']!,
      '--after-host',
      'echo "lb refused" >&2; exit 3',
    ]);
    assert.equal(res.code, 1);
    assert.equal(res.json.results[0]!.outcome, 'failed');
    assert.equal(res.json.results[0]!.error?.code, 'SWARM_ERR_HOOK_FAILED');
    assert.match(res.json.results[0]!.error!.message, /exited 3 for g3: lb refused/);
    assert.equal((await fleet.health('g3')).active?.version, '5.0.0', 'its release stays active');
  });

  it('a malformed --gate-retry is a usage error (exit 2)', async () => {
    const res = await fleet.swarm(['update', '--all', '--tree', trees['1.0.0']!, '--gate-retry', 'soon']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--gate-retry must be a positive duration/);
  });

  it('--window: a window that opens within a minute — no host starts before it opens; --dry-run says when', async () => {
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    // The first minute boundary at least 5 s away, and a window of ten minutes from there.
    const opening = new Date(Math.ceil((Date.now() + 5_000) / 60_000) * 60_000);
    const spec = `* ${hhmm(opening)}-${hhmm(new Date(opening.getTime() + 10 * 60_000))} UTC`;
    const plan = await fleet.swarm([
      'update',
      '--host',
      'g1',
      '--tree',
      trees['3.0.0']!,
      '--window',
      spec,
      '--dry-run',
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, new RegExp(`maintenance window: closed; the next opens at ${opening.toISOString()}`));
    const res = await fleet.swarmJson<RolloutJson>([
      'update',
      '--host',
      'g1',
      '--tree',
      trees['3.0.0']!,
      '--window',
      spec,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(outcomes(res.json), { g1: 'updated' });
    assert.match(res.stderr, new RegExp(`the next opens at ${opening.toISOString()}; waiting`));
    const last = (await fleet.health('g1')).lastUpdate!;
    assert.ok(
      new Date(last.startedAt).getTime() >= opening.getTime(),
      `the update started at ${last.startedAt}, before the window opened at ${opening.toISOString()}`,
    );
  });

  it('a malformed --window is a usage error (exit 2) naming the problem, before any host is contacted', async () => {
    const res = await fleet.swarm(['activate', '--all', '--window', 'mon-fri 01:00-05:00 Mars/Olympus']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /"Mars\/Olympus" is not an IANA time zone/);
  });
});
