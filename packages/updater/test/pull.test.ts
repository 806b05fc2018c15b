// POST /pull (wiki/reference/updater-api.md#post-pull): a real updater over mTLS pulls its
// release from a real docker-registry (TLS, htpasswd) by digest, and goes on as /update or
// /stage; a hostile fake registry gives every bad answer, and each is refused with its code,
// the active release untouched and nothing extracted outside staging.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import { parseHealth } from '@swarm/protocol';
import {
  MANIFEST_MEDIA_TYPE,
  createOciClient,
  readDockerConfig,
  releaseManifest,
  type OciClient,
  type Repository,
} from '@swarm/oci-client';
import { startRegistry, type RealRegistry } from '../../oci-client/test/fixtures/docker-registry.js';
import { answer, makeFakePki, startFakeRegistry, type FakePki, type FakeRegistry } from '../../oci-client/test/fixtures/fake-registry.js';
import { currentId, killSeenAgents, releaseDirs, startTestUpdater, type TestUpdater } from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { RAW_MANIFEST, rawTarball } from './helpers/raw-tar.js';
import { buildRelease } from './helpers/releases.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
const updaters: TestUpdater[] = [];

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2] = await Promise.all([buildRelease(root, { version: '1.0.0' }), buildRelease(root, { version: '2.0.0' })]);
});
after(async () => {
  for (const u of updaters) await u.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

async function updater(extra: Record<string, unknown>): Promise<TestUpdater> {
  const u = await startTestUpdater(fx, extra);
  updaters.push(u);
  return u;
}

const pull = (u: TestUpdater, body: unknown) =>
  u.call('/pull', { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Publish a packed release as swarm publish does: config, layer, manifest; returns the manifest digest. */
async function publish(client: OciClient, repo: Repository, release: PackResult, tag: string): Promise<string> {
  const tarball = await readFile(release.file);
  const config = Buffer.from(JSON.stringify({ name: release.name, version: release.version }));
  for (const blob of [config, tarball]) {
    await client.pushBlob(repo, sha(blob), { size: blob.length, open: () => blob });
  }
  const bytes = releaseManifest({
    name: release.name,
    version: release.version,
    config: { digest: sha(config), size: config.length },
    layer: { digest: sha(tarball), size: tarball.length },
  });
  return client.putManifest(repo, tag, { bytes, mediaType: MANIFEST_MEDIA_TYPE });
}

async function assertOn(u: TestUpdater, release: PackResult) {
  const h = parseHealth((await u.health()).body);
  assert.equal(h?.active?.id, idOf(release), 'the active release is untouched');
  assert.equal(h?.busy, false);
  assert.equal(await currentId(u.installDir), idOf(release));
}

describe('POST /pull from a real registry', () => {
  let registry: RealRegistry;
  let client: OciClient;
  let repo: Repository;
  let d1: string;
  let d2: string;

  before(async () => {
    registry = await startRegistry();
    client = createOciClient({ credentials: await readDockerConfig(registry.authFile), caPem: registry.caPem });
    repo = { registry: registry.host, repository: 'team/web' };
    d1 = await publish(client, repo, v1, '1.0.0');
    d2 = await publish(client, repo, v2, '2.0.0');
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });
  const flags = () => ({ registryAuth: registry.authFile, registryCa: registry.caFile, registryTimeout: '10s' });

  it('pulls by digest and updates: the same answer as /update, the release active and healthy', async () => {
    const u = await updater(flags());
    const res = await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome, 'updated');
    assert.equal(res.body.active.id, idOf(v1));
    assert.equal(res.body.active.sha256, v1.sha256);
    await assertOn(u, v1);
    const h = parseHealth((await u.health()).body);
    assert.equal(h?.lastUpdate?.kind, 'update');
  });

  it('"stage": true stages the pulled release; /activate then switches without another transfer', async () => {
    const u = await updater(flags());
    assert.equal((await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 })).status, 200);
    const staged = await pull(u, { registry: registry.host, repository: 'team/web', digest: d2, stage: true });
    assert.equal(staged.status, 200, staged.text);
    assert.equal(staged.body.staged.id, idOf(v2));
    await assertOn(u, v1);
    await registry.mark();
    const activated = await u.call('/activate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sha256: v2.sha256 }) });
    assert.equal(activated.status, 200, activated.text);
    assert.equal(activated.body.active.id, idOf(v2));
    assert.deepEqual(await registry.requests(), [], 'nothing fetched again');
  });

  it('a release the host holds is not downloaded again: the active one is unchanged, a staged one is activated', async () => {
    const u = await updater(flags());
    assert.equal((await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 })).status, 200);
    assert.equal((await pull(u, { registry: registry.host, repository: 'team/web', digest: d2, stage: true })).status, 200);
    await registry.mark();
    const same = await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.body.outcome, 'unchanged');
    const staged = await pull(u, { registry: registry.host, repository: 'team/web', digest: d2 });
    assert.equal(staged.status, 200, staged.text);
    assert.equal(staged.body.outcome, 'updated');
    assert.equal(staged.body.active.id, idOf(v2));
    const fetched = await registry.requests();
    assert.ok(fetched.length > 0 && fetched.every((r) => r.includes('/manifests/')), `only manifests were fetched:\n${fetched.join('\n')}`);
  });

  it('without a digest, or with a tag only, or not JSON: 400, nothing fetched, nothing changed', async () => {
    const u = await updater(flags());
    assert.equal((await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 })).status, 200);
    await registry.mark();
    for (const body of [
      { registry: registry.host, repository: 'team/web' },
      { registry: registry.host, repository: 'team/web', tag: '1.0.0' },
      { registry: registry.host, repository: 'team/web', digest: '1.0.0' },
      { registry: registry.host, repository: 'team/web', digest: d2, stage: 'yes' },
      { registry: registry.host, repository: 'Team/Web', digest: d2 },
      '{"registry": ',
    ]) {
      const res = await pull(u, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, 'SWARM_ERR_UPDATER_BAD_REQUEST');
    }
    const tagOnly = await pull(u, { registry: registry.host, repository: 'team/web', tag: '1.0.0' });
    assert.match(tagOnly.body.message, /a tag is never enough/);
    assert.deepEqual(await registry.requests(), []);
    await assertOn(u, v1);
    const h = parseHealth((await u.health()).body);
    assert.equal(h?.lastUpdate?.outcome, 'updated', 'no operation was started by a bad request');
  });

  it('a digest the registry does not have: 502 SWARM_ERR_REGISTRY_NOT_FOUND, the active release untouched', async () => {
    const u = await updater(flags());
    assert.equal((await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 })).status, 200);
    const res = await pull(u, { registry: registry.host, repository: 'team/web', digest: sha(Buffer.from('absent')) });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_REGISTRY_NOT_FOUND');
    await assertOn(u, v1);
  });

  it('a wrong password: 502 SWARM_ERR_REGISTRY_DENIED at once, no retry storm', async () => {
    const wrongAuth = join(fx.root, 'wrong-auth.json');
    await writeFile(wrongAuth, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${registry.username}:nope`).toString('base64') } } }));
    const u = await updater({ ...flags(), registryAuth: wrongAuth });
    await registry.mark();
    const res = await pull(u, { registry: registry.host, repository: 'team/web', digest: d1 });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_REGISTRY_DENIED');
    assert.ok((await registry.requests()).length <= 2, (await registry.requests()).join('\n'));
    assert.doesNotMatch(res.text, /nope/);
  });

  it('a registry that is down: 502 SWARM_ERR_REGISTRY_UNREACHABLE after the back-off, within --registry-timeout', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const u = await updater({ ...flags(), registryTimeout: '2s' });
    const t0 = Date.now();
    const res = await pull(u, { registry: `127.0.0.1:${port}`, repository: 'team/web', digest: d1 });
    const took = Date.now() - t0;
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_REGISTRY_UNREACHABLE');
    assert.match(res.body.message, /gave up after \d+ attempt/);
    assert.ok(took >= 1000 && took < 6000, `took ${took} ms`);
  });
});

describe('POST /pull from a hostile registry', () => {
  let pki: FakePki;
  let fake: FakeRegistry;
  let other: FakeRegistry;
  let u: TestUpdater;
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const repo = 'team/web';
  /** Serve the stored manifests and blobs; `override` answers first when it returns true. */
  let override: (url: string, res: ServerResponse) => boolean = () => false;

  before(async () => {
    pki = await makeFakePki();
    fake = await startFakeRegistry(pki);
    other = await startFakeRegistry(pki);
    fake.handler = (req, res) => {
      const url = req.url ?? '';
      if (override(url, res)) return;
      const m = /^\/v2\/team\/web\/(manifests|blobs)\/(sha256:[0-9a-f]{64})$/.exec(url);
      const body = m ? (m[1] === 'manifests' ? manifests : blobs).get(m[2]!) : undefined;
      if (!body) return answer(res, 404, {}, '{"errors":[{"code":"NOT_FOUND"}]}');
      answer(res, 200, { 'content-type': m![1] === 'manifests' ? MANIFEST_MEDIA_TYPE : 'application/octet-stream' }, body);
    };
    const caFile = join(fx.root, 'fake-ca.crt');
    await writeFile(caFile, pki.caPem);
    u = await updater({ registryCa: caFile, registryTimeout: '3s', maxUploadBytes: 4 * 1024 * 1024 });
    const first = await u.pushParts([
      { name: 'sha256', value: v1.sha256 },
      { name: 'tarball', filename: 'r.tgz', path: v1.file },
    ]);
    assert.equal(first.status, 200, first.text);
  });
  after(async () => {
    await fake?.close();
    await other?.close();
  });

  /** Store an artifact: its layer (any bytes) and a manifest, overridable field by field. */
  function artifact(layer: Buffer, change: (m: Record<string, unknown>) => void = () => undefined): string {
    const config = Buffer.from(RAW_MANIFEST);
    blobs.set(sha(config), config);
    blobs.set(sha(layer), layer);
    const doc = JSON.parse(
      releaseManifest({ name: 'web', version: '6.6.6', config: { digest: sha(config), size: config.length }, layer: { digest: sha(layer), size: layer.length } }).toString(),
    ) as Record<string, unknown>;
    change(doc);
    const bytes = Buffer.from(JSON.stringify(doc));
    manifests.set(sha(bytes), bytes);
    return sha(bytes);
  }
  async function refused(digest: string, status: number, code: string, message?: RegExp) {
    const res = await pull(u, { registry: fake.host, repository: repo, digest });
    assert.equal(res.status, status, res.text);
    assert.equal(res.body.code, code, res.text);
    if (message) assert.match(res.body.message, message);
    await assertOn(u, v1);
    assert.deepEqual(await releaseDirs(u.installDir), [idOf(v1)], 'nothing extracted, nothing kept');
    return res;
  }

  it('a manifest whose bytes do not match the digest: 422 SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', async () => {
    const digest = artifact(await readFile(v2.file));
    const wanted = sha(Buffer.from('another manifest'));
    manifests.set(wanted, manifests.get(digest)!);
    await refused(wanted, 422, 'SWARM_ERR_ARTIFACT_DIGEST_MISMATCH');
  });

  it('a manifest over 4 MiB: 422 SWARM_ERR_ARTIFACT_INVALID, not read whole', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    manifests.set(sha(huge), huge);
    await refused(sha(huge), 422, 'SWARM_ERR_ARTIFACT_INVALID', /4194304-byte cap/);
  });

  it('a wrong artifactType, a wrong layer media type, no layer: 422 SWARM_ERR_ARTIFACT_INVALID naming it', async () => {
    const layer = await readFile(v2.file);
    await refused(artifact(layer, (m) => (m.artifactType = 'application/vnd.example.other')), 422, 'SWARM_ERR_ARTIFACT_INVALID', /artifactType/);
    await refused(
      artifact(layer, (m) => ((m.layers as { mediaType: string }[])[0]!.mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip')),
      422,
      'SWARM_ERR_ARTIFACT_INVALID',
      /first layer's mediaType/,
    );
    await refused(artifact(layer, (m) => (m.layers = [])), 422, 'SWARM_ERR_ARTIFACT_INVALID', /no layer/);
  });

  it('a layer whose bytes do not match its digest: 422 SWARM_ERR_ARTIFACT_DIGEST_MISMATCH, nothing extracted', async () => {
    const layer = await readFile(v2.file);
    const digest = artifact(layer);
    blobs.set(sha(layer), rawTarball([{ name: 'release.json', content: RAW_MANIFEST }]));
    await refused(digest, 422, 'SWARM_ERR_ARTIFACT_DIGEST_MISMATCH');
    blobs.set(sha(layer), layer);
  });

  it('a layer declared over the upload cap: 413 SWARM_ERR_ARTIFACT_TOO_LARGE before a byte of it is fetched', async () => {
    const layer = await readFile(v2.file);
    const digest = artifact(layer, (m) => ((m.layers as { size: number }[])[0]!.size = 64 * 1024 * 1024));
    fake.seen.length = 0;
    await refused(digest, 413, 'SWARM_ERR_ARTIFACT_TOO_LARGE', /over the upload cap/);
    assert.ok(!fake.seen.some((s) => s.line.includes('/blobs/')), 'the blob was never asked for');
  });

  it('a layer that runs past the upload cap: 413, stopped at the cap', async () => {
    const layer = randomBytes(1000);
    const digest = artifact(layer);
    let written = 0;
    override = (url, res) => {
      if (!url.endsWith(`/blobs/${sha(layer)}`)) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const more = () => {
        while (written < 512 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return true;
    };
    try {
      await refused(digest, 413, 'SWARM_ERR_ARTIFACT_TOO_LARGE', /cap of 4194304/);
      assert.ok(written < 64 * 1024 * 1024, `the registry wrote ${written} bytes`);
    } finally {
      override = () => false;
    }
  });

  it('a registry that trickles: 502 SWARM_ERR_REGISTRY_UNREACHABLE at --registry-timeout', { timeout: 30_000 }, async () => {
    const layer = await readFile(v2.file);
    const digest = artifact(layer);
    override = (url, res) => {
      if (!url.includes('/blobs/')) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(layer.subarray(0, 1)), 200);
      res.on('close', () => clearInterval(timer));
      return true;
    };
    try {
      const t0 = Date.now();
      await refused(digest, 502, 'SWARM_ERR_REGISTRY_UNREACHABLE', /--registry-timeout/);
      const took = Date.now() - t0;
      assert.ok(took >= 2500 && took < 8000, `took ${took} ms`);
    } finally {
      override = () => false;
    }
  });

  it('a redirect to another host that asks for credentials: 502 SWARM_ERR_REGISTRY_DENIED, none sent', async () => {
    const layer = await readFile(v2.file);
    const digest = artifact(layer);
    override = (url, res) => {
      if (!url.includes('/blobs/')) return false;
      answer(res, 307, { location: `${other.origin}/store/blob` });
      return true;
    };
    other.handler = (_req, res) => answer(res, 401, { 'www-authenticate': 'Basic realm="elsewhere"' });
    try {
      await refused(digest, 502, 'SWARM_ERR_REGISTRY_DENIED', /to no other host/);
      assert.ok(other.seen.length > 0 && other.seen.every((s) => s.authorization === undefined));
    } finally {
      override = () => false;
    }
  });

  it('a hostile archive inside a valid artifact: the 422 of an upload (SWARM_ERR_ARCHIVE_UNSAFE), nothing written outside staging', async () => {
    const layer = rawTarball([
      { name: 'release.json', content: RAW_MANIFEST },
      { name: '../../escaped.txt', content: 'owned' },
    ]);
    const res = await refused(artifact(layer), 422, 'SWARM_ERR_ARCHIVE_UNSAFE');
    assert.equal(res.body.phase, 'extract');
    await assert.rejects(readFile(join(u.installDir, '..', 'escaped.txt')));
  });

  it('and a good artifact from the same registry is then pulled and installed', async () => {
    const digest = artifact(await readFile(v2.file));
    const res = await pull(u, { registry: fake.host, repository: repo, digest });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active.id, idOf(v2));
  });
});
