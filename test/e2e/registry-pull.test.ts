// Pull from an OCI registry (issue 14; wiki/registry-pull.md): the real CLI, three real
// `swarm updater` processes and a real docker-registry with TLS and htpasswd. `swarm publish`
// twice gives the same digest and sends no blob the second time; `swarm update --from` a tag
// resolves it once and every host pulls that digest itself; `--from …@sha256 --stage-only`
// then `swarm activate` switches without a transfer; bad references are refused up front.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRegistry, type RealRegistry } from '../../packages/oci-client/test/fixtures/docker-registry.js';
import { swarm } from '../cli-harness.js';
import { Fleet } from './helpers/fleet.js';
import { agentRelease } from './helpers/release-trees.js';
import { outcomes, type OperationJson, type PackJson, type RolloutJson } from './helpers/rollout-json.js';

const HOSTS = ['p1', 'p2', 'p3'] as const;
const each = <T>(value: T) => Object.fromEntries(HOSTS.map((h) => [h, value]));

interface PublishJson {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly reference: string;
  readonly digest: string;
}

describe('swarm publish and swarm update --from against a real registry', () => {
  let registry: RealRegistry;
  let fleet: Fleet;
  let auth: string[];
  const trees = { v1: '', v2: '', v3: '' };

  before(async () => {
    registry = await startRegistry();
    auth = ['--registry-auth', registry.authFile, '--registry-ca', registry.caFile];
    fleet = await Fleet.create({ name: 'pull', hosts: HOSTS, updaterFlags: () => auth });
    const t = (name: string) => join(fleet.root, 'trees', name);
    trees.v1 = await agentRelease(t('v1'), '1.0.0');
    trees.v2 = await agentRelease(t('v2'), '2.0.0');
    trees.v3 = await agentRelease(t('v3'), '3.0.0');
  });
  after(async () => {
    await fleet?.close();
    await registry?.stop();
  });

  const repo = () => `${registry.host}/team/web`;
  const blobPulls = async (digest: string) => (await registry.requests()).filter((r) => r === `GET /v2/team/web/blobs/${digest}`).length;

  it('publish: the tarball swarm pack makes, the same digest twice, and the second time no blob is sent', async () => {
    const pack = await fleet.swarmJson<PackJson>(['pack', '--tree', trees.v1, '-o', join(fleet.root, 'v1.tgz')]);
    await registry.mark();
    const first = await fleet.swarmJson<PublishJson>(['publish', `${repo()}:1.0.0`, '--tree', trees.v1, ...auth]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.name, 'agent');
    assert.equal(first.json.version, '1.0.0');
    assert.equal(first.json.sha256, pack.json.sha256, 'the very tarball swarm pack makes');
    assert.equal(first.json.size, pack.json.size);
    assert.match(first.json.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(first.json.reference, `${repo()}@${first.json.digest}`);
    const sent = await registry.requests();
    assert.equal(sent.filter((r) => r.startsWith('PUT /v2/team/web/blobs/uploads/')).length, 2, sent.join('\n'));

    await registry.mark();
    const again = await fleet.swarmJson<PublishJson>(['publish', `${repo()}:1.0.0`, '--tree', trees.v1, ...auth]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.digest, first.json.digest, 'the same tree gives the same digest');
    const second = await registry.requests();
    assert.ok(!second.some((r) => /^(POST|PATCH|PUT) \/v2\/team\/web\/blobs\//.test(r)), second.join('\n'));
    assert.match(again.stderr, /none sent/);
  });

  it('update --all --from HOST/REPO:TAG: the tag resolved once, every host pulled that digest itself, recorded in the history', async () => {
    const published = await fleet.swarmJson<PublishJson>(['publish', `${repo()}:stable`, '--tree', trees.v1, ...auth]);
    assert.equal(published.code, 0, published.stderr);
    const layer = `sha256:${published.json.sha256}`;
    await registry.mark();
    const update = await fleet.swarmJson<RolloutJson>(['update', '--all', '--from', `${repo()}:stable`, ...auth]);
    assert.equal(update.code, 0, update.stderr);
    assert.deepEqual(outcomes(update.json), each('updated'));
    assert.equal(update.json.release?.sha256, published.json.sha256);
    assert.match(update.stderr, new RegExp(`is ${repo()}:stable@${published.json.digest}`));
    // Each host fetched the layer from the registry: the master sent no tarball.
    assert.equal(await blobPulls(layer), HOSTS.length);
    const tagLookups = (await registry.requests()).filter((r) => r === 'GET /v2/team/web/manifests/stable');
    assert.equal(tagLookups.length, 1, 'the tag is resolved once, by the master');
    for (const host of HOSTS) {
      const health = await fleet.health(host);
      assert.equal(health.active?.sha256, published.json.sha256);
      assert.equal(health.lastUpdate?.kind, 'update');
    }
    const history = await fleet.swarmJson<(OperationJson & { options: { from: string } })[]>(['history', '--limit', '1']);
    assert.equal(history.json[0]!.options.from, `${repo()}:stable@${published.json.digest}`);
    // Again: every host is up to date, nothing pulled.
    await registry.mark();
    const again = await fleet.swarmJson<RolloutJson>(['update', '--all', '--from', `${repo()}:stable`, ...auth]);
    assert.deepEqual(outcomes(again.json), each('up_to_date'));
    assert.equal(await blobPulls(layer), 0);
  });

  it('--from …@sha256 --stage-only stages on every host; swarm activate --all then switches with no transfer', async () => {
    const published = await fleet.swarmJson<PublishJson>(['publish', `${repo()}:2.0.0`, '--tree', trees.v2, ...auth]);
    const plan = await fleet.swarmJson<{ from: string; hosts: { action: string }[] }>([
      'update', '--all', '--from', published.json.reference, '--stage-only', '--dry-run', ...auth,
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.json.from, published.json.reference);
    const staged = await fleet.swarmJson<RolloutJson>(['update', '--all', '--from', published.json.reference, '--stage-only', ...auth]);
    assert.equal(staged.code, 0, staged.stderr);
    assert.deepEqual(outcomes(staged.json), each('staged'));
    for (const host of HOSTS) {
      const health = await fleet.health(host);
      assert.equal(health.active?.version, '1.0.0');
      assert.equal(health.staged?.version, '2.0.0');
    }
    await registry.mark();
    const activated = await fleet.swarmJson<RolloutJson>(['activate', '--all']);
    assert.equal(activated.code, 0, activated.stderr);
    assert.deepEqual(outcomes(activated.json), each('updated'));
    assert.deepEqual(await registry.requests(), [], 'activation fetches nothing');
    for (const host of HOSTS) assert.equal((await fleet.health(host)).active?.version, '2.0.0');
  });

  it('bad references and bad logins are refused before any host is touched', async () => {
    const before = await Promise.all(HOSTS.map((h) => fleet.journal(h)));
    const noTag = await fleet.swarm(['update', '--all', '--from', repo(), ...auth]);
    assert.equal(noTag.code, 2);
    assert.match(noTag.stderr, /SWARM_ERR_USAGE_INVALID: --from .* names neither a tag nor a digest/);
    const malformed = await fleet.swarm(['update', '--all', '--from', 'no-registry', ...auth]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /SWARM_ERR_USAGE_INVALID/);
    const both = await fleet.swarm(['update', '--all', '--from', `${repo()}:stable`, '--tree', trees.v3, ...auth]);
    assert.equal(both.code, 2);
    const unknown = await fleet.swarm(['update', '--all', '--from', `${repo()}:no-such-tag`, ...auth]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /SWARM_ERR_REGISTRY_NOT_FOUND/);
    const anonymous = await fleet.swarm(['update', '--all', '--from', `${repo()}:stable`, '--registry-ca', registry.caFile]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /SWARM_ERR_REGISTRY_DENIED/);
    // SWARM_REGISTRY_AUTH stands for --registry-auth.
    const fromEnv = await swarm(['update', '--all', '--from', `${repo()}:stable`, '--registry-ca', registry.caFile, '--dry-run'], {
      ...fleet.env,
      SWARM_REGISTRY_AUTH: registry.authFile,
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const publishDigest = await fleet.swarm(['publish', `${repo()}@sha256:${'a'.repeat(64)}`, '--tree', trees.v3, ...auth]);
    assert.equal(publishDigest.code, 2);
    assert.deepEqual(await Promise.all(HOSTS.map((h) => fleet.journal(h))), before, 'no host was touched');
  });
});
