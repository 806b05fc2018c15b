import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { isSwarmError } from '@swarm/errors';
import { createOciClient, readDockerConfig, type BlobSource, type OciClient, type Repository } from '../src/index.js';
import { startRegistry, type RealRegistry } from './fixtures/docker-registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const source = (bytes: Buffer): BlobSource => ({
  size: bytes.length,
  open: (range) => Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]),
});

describe('OCI client against a real docker-registry (TLS, htpasswd)', () => {
  let registry: RealRegistry;
  let client: OciClient;
  let repo: Repository;

  before(async () => {
    registry = await startRegistry();
    client = createOciClient({ credentials: await readDockerConfig(registry.authFile), caPem: registry.caPem, chunkBytes: 64 * 1024 });
    repo = { registry: registry.host, repository: 'team/web' };
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('pushes blobs once (a second push sends nothing), monolithic and in PATCH chunks, and reads them back digest-checked', async () => {
    const small = Buffer.from('{"name":"web","version":"1.0.0"}');
    const large = randomBytes(200 * 1024 + 17); // four PATCH chunks of 64 KiB
    await registry.mark();
    assert.deepEqual(await client.pushBlob(repo, sha(small), source(small)), { pushed: true });
    assert.deepEqual(await client.pushBlob(repo, sha(large), source(large)), { pushed: true });
    const first = await registry.requests();
    assert.equal(first.filter((r) => r.startsWith('PATCH ')).length, 4, first.join('\n'));
    await registry.mark();
    assert.deepEqual(await client.pushBlob(repo, sha(small), source(small)), { pushed: false });
    assert.deepEqual(await client.pushBlob(repo, sha(large), source(large)), { pushed: false });
    const second = await registry.requests();
    assert.ok(second.length > 0 && second.every((r) => r.startsWith('HEAD ')), second.join('\n'));

    assert.equal(await client.blobSize(repo, sha(large)), large.length);
    const back = Buffer.concat(await (await client.getBlob(repo, sha(large), { maxBytes: large.length })).toArray());
    assert.ok(back.equals(large));
    assert.equal(await client.blobSize(repo, sha(Buffer.from('absent'))), null);
  });

  it('puts a manifest with artifactType and custom media types and gets it back byte for byte, by tag and by digest', async () => {
    const config = Buffer.from('{"name":"web","version":"1.0.0"}');
    const layer = randomBytes(1000);
    await client.pushBlob(repo, sha(config), source(config));
    await client.pushBlob(repo, sha(layer), source(layer));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.swarm.release.v1',
        config: { mediaType: 'application/vnd.swarm.release.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.swarm.release.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
        annotations: { 'org.opencontainers.image.title': 'web', 'org.opencontainers.image.version': '1.0.0' },
      }),
    );
    const digest = await client.putManifest(repo, '1.0.0', { bytes: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(digest, sha(manifest));
    const byTag = await client.getManifest(repo, '1.0.0');
    assert.ok(byTag.bytes.equals(manifest));
    assert.equal(byTag.digest, digest);
    assert.equal(byTag.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    const byDigest = await client.getManifest(repo, digest);
    assert.ok(byDigest.bytes.equals(manifest));
    assert.equal(await text(await client.getBlob(repo, sha(config), { maxBytes: 1024 })), config.toString());
  });

  it('an unknown tag is SWARM_ERR_REGISTRY_NOT_FOUND, at once', async () => {
    const t0 = Date.now();
    await assert.rejects(client.getManifest(repo, 'no-such-tag'), (err) => isSwarmError(err) && err.code === 'SWARM_ERR_REGISTRY_NOT_FOUND' && /404/.test(err.message));
    assert.ok(Date.now() - t0 < 5000);
  });

  it('a wrong password is SWARM_ERR_REGISTRY_DENIED after one challenge, with no retry storm', async () => {
    const wrong = createOciClient({ credentials: new Map([[registry.host, { username: registry.username, password: 'wrong' }]]), caPem: registry.caPem });
    try {
      await registry.mark();
      await assert.rejects(wrong.getManifest(repo, '1.0.0'), (err) => isSwarmError(err) && err.code === 'SWARM_ERR_REGISTRY_DENIED' && /--registry-auth/.test(err.message));
      assert.ok((await registry.requests()).length <= 2, (await registry.requests()).join('\n'));
    } finally {
      await wrong.close();
    }
  });

  it('no login at all is SWARM_ERR_REGISTRY_DENIED naming the missing login', async () => {
    const anonymous = createOciClient({ caPem: registry.caPem });
    try {
      await assert.rejects(anonymous.getManifest(repo, '1.0.0'), (err) => isSwarmError(err) && err.code === 'SWARM_ERR_REGISTRY_DENIED' && /has none for/.test(err.message));
    } finally {
      await anonymous.close();
    }
  });

  it('a registry whose CA is not given is SWARM_ERR_REGISTRY_UNREACHABLE naming --registry-ca, not retried', async () => {
    const untrusting = createOciClient({ credentials: await readDockerConfig(registry.authFile) });
    try {
      const t0 = Date.now();
      await assert.rejects(untrusting.getManifest(repo, '1.0.0'), (err) => isSwarmError(err) && err.code === 'SWARM_ERR_REGISTRY_UNREACHABLE' && /--registry-ca/.test(err.message));
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await untrusting.close();
    }
  });
});
