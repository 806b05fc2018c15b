import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isSwarmError, type SwarmError } from '@swarm/errors';
import { MAX_MANIFEST_BYTES, createOciClient, type OciClient, type OciClientOptions, type Repository } from '../src/index.js';
import { answer, makeFakePki, startFakeRegistry, type FakePki, type FakeRegistry } from './fixtures/fake-registry.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const coded = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(isSwarmError(err), `not a SwarmError: ${String(err)}`);
  assert.equal((err as SwarmError).code, code, (err as Error).message);
  if (message) assert.match((err as Error).message, message);
  return true;
};
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Write `total` bytes in 64 KiB chunks as fast as the client reads; returns what was written. */
function pour(res: ServerResponse, total: number, headers: Record<string, string> = {}): { written: () => number } {
  let written = 0;
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
  const chunk = Buffer.alloc(64 * 1024, 7);
  const more = () => {
    while (written < total) {
      written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end();
  };
  res.on('close', () => (total = 0));
  more();
  return { written: () => written };
}

describe('OCI client against a hostile registry', () => {
  let pki: FakePki;
  let fake: FakeRegistry;
  let other: FakeRegistry;
  let client: OciClient;
  let repo: Repository;
  const make = (o: OciClientOptions = {}) =>
    createOciClient({
      caPem: pki.caPem,
      credentials: new Map([[fake.host, { username: 'fleet', password: 's3cret' }]]),
      timeoutMs: 3000,
      backoff: { firstMs: 20, maxMs: 200 },
      ...o,
    });

  before(async () => {
    pki = await makeFakePki();
    fake = await startFakeRegistry(pki);
    other = await startFakeRegistry(pki);
    repo = { registry: fake.host, repository: 'team/web' };
  });
  beforeEach(async () => {
    await client?.close();
    client = make();
    fake.seen.length = 0;
    other.seen.length = 0;
  });
  after(async () => {
    await client?.close();
    await fake?.close();
    await other?.close();
  });

  it('a manifest whose bytes do not match the digest asked for is SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', async () => {
    const wanted = sha(Buffer.from('the real manifest'));
    fake.handler = (_req, res) => answer(res, 200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, '{"other":true}');
    await assert.rejects(client.getManifest(repo, wanted), coded('SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', /not the digest asked for/));
  });

  it('a manifest declared over 4 MiB is refused from its Content-Length, before its body is read', async () => {
    let sent = { written: () => 0 };
    fake.handler = (_req, res) => (sent = pour(res, 64 * 1024 * 1024, { 'content-length': String(64 * 1024 * 1024) }));
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_ARTIFACT_INVALID', /over the 4194304-byte cap/));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(sent.written() < 16 * 1024 * 1024, `the server wrote ${sent.written()} bytes`);
  });

  it('a manifest sent without a length is cut at 4 MiB, not read to its end', async () => {
    let sent = { written: () => 0 };
    fake.handler = (_req, res) => (sent = pour(res, 256 * 1024 * 1024));
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_ARTIFACT_INVALID', /over the 4194304-byte cap/));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(sent.written() > MAX_MANIFEST_BYTES && sent.written() < MAX_MANIFEST_BYTES + 16 * 1024 * 1024, `the server wrote ${sent.written()} bytes`);
  });

  it('a blob whose bytes do not match its digest fails its stream with SWARM_ERR_ARTIFACT_DIGEST_MISMATCH at the end', async () => {
    const body = randomBytes(100_000);
    fake.handler = (_req, res) => answer(res, 200, {}, body);
    const stream = await client.getBlob(repo, sha(Buffer.from('something else')), { maxBytes: 1 << 20 });
    await assert.rejects(stream.toArray(), coded('SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', /not its digest/));
  });

  it('a blob declared larger than the cap is SWARM_ERR_ARTIFACT_TOO_LARGE before a byte is read', async () => {
    fake.handler = (_req, res) => pour(res, 8 << 20, { 'content-length': String(8 << 20) });
    await assert.rejects(client.getBlob(repo, sha(Buffer.from('x')), { maxBytes: 1 << 20 }), coded('SWARM_ERR_ARTIFACT_TOO_LARGE', /8388608 bytes, over the cap of 1048576/));
  });

  it('a blob without a length that runs past the cap is stopped at the cap: the reader never gets a byte more', async () => {
    let sent = { written: () => 0 };
    fake.handler = (_req, res) => (sent = pour(res, 512 << 20));
    const stream = await client.getBlob(repo, sha(Buffer.from('x')), { maxBytes: 1 << 20 });
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) received += (chunk as Buffer).length;
      })(),
      coded('SWARM_ERR_ARTIFACT_TOO_LARGE', /more than 1048576 bytes/),
    );
    assert.ok(received <= 1 << 20, `the reader got ${received} bytes`);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(sent.written() < 32 << 20, `the server wrote ${sent.written()} of 512 MiB`);
  });

  it('401 for the credentials is SWARM_ERR_REGISTRY_DENIED after one challenge: two requests, no retry storm', async () => {
    fake.handler = (_req, res) => answer(res, 401, { 'www-authenticate': 'Basic realm="fake"' }, '{"errors":[{"code":"UNAUTHORIZED"}]}');
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_REGISTRY_DENIED', /refused the credentials/));
    assert.equal(fake.seen.length, 2);
    assert.equal(fake.seen[0]!.authorization, undefined);
    assert.equal(fake.seen[1]!.authorization, basic('fleet', 's3cret'));
  });

  it('404 is SWARM_ERR_REGISTRY_NOT_FOUND with what the registry said, not retried', async () => {
    fake.handler = (_req, res) => answer(res, 404, {}, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    await assert.rejects(client.getManifest(repo, 'v9'), coded('SWARM_ERR_REGISTRY_NOT_FOUND', /404 \(MANIFEST_UNKNOWN: manifest unknown\)/));
    assert.equal(fake.seen.length, 1);
  });

  it('another 4xx is SWARM_ERR_REGISTRY_PROTOCOL, not retried', async () => {
    fake.handler = (_req, res) => answer(res, 400, {}, 'bad');
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_REGISTRY_PROTOCOL', /answered 400/));
    assert.equal(fake.seen.length, 1);
  });

  it('5xx and 429 are retried with back-off (Retry-After honoured) until an answer comes', async () => {
    const manifest = Buffer.from('{"schemaVersion":2}');
    let n = 0;
    fake.handler = (_req, res) => {
      n++;
      if (n === 1) return answer(res, 503);
      if (n === 2) return answer(res, 429, { 'retry-after': '0' });
      answer(res, 200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, manifest.toString());
    };
    const got = await client.getManifest(repo, sha(manifest));
    assert.ok(got.bytes.equals(manifest));
    assert.equal(fake.seen.length, 3);
  });

  it('a registry that keeps answering 503 is SWARM_ERR_REGISTRY_UNREACHABLE at the deadline, after several attempts', async () => {
    fake.handler = (_req, res) => answer(res, 503);
    const t0 = Date.now();
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_REGISTRY_UNREACHABLE', /answered 503; gave up after \d+ attempt\(s\), at the deadline/));
    const took = Date.now() - t0;
    assert.ok(took <= 3000 + 500, `took ${took} ms`);
    assert.ok(fake.seen.length >= 3, `${fake.seen.length} attempts`);
  });

  it('a registry that is down is SWARM_ERR_REGISTRY_UNREACHABLE after the back-off, within the deadline', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = make({ timeoutMs: 1500 });
    try {
      const t0 = Date.now();
      await assert.rejects(down.getManifest({ registry: `127.0.0.1:${port}`, repository: 'team/web' }, 'v1'), coded('SWARM_ERR_REGISTRY_UNREACHABLE', /ECONNREFUSED|gave up/));
      const took = Date.now() - t0;
      assert.ok(took >= 200 && took <= 2000, `took ${took} ms`);
    } finally {
      await down.close();
    }
  });

  it('a registry that trickles is cut off by the deadline (--registry-timeout), garbage collection or not', { timeout: 20_000 }, async () => {
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write('x'), 100);
      res.on('close', () => clearInterval(timer));
    };
    const slow = make({ timeoutMs: 1000 });
    // Garbage collection meanwhile: the deadline must not hang on an object nothing holds
    // (an abort signal alone was collected before it fired, and the pull then never ended).
    const collector = setInterval(gc, 20);
    try {
      const t0 = Date.now();
      // With a caller's signal too, as the updater passes its operation's: the deadline's
      // signal is then only a source of a combined one, which holds it weakly.
      const caller = new AbortController();
      const stream = await slow.getBlob(repo, sha(Buffer.from('x')), { maxBytes: 1 << 20, signal: caller.signal });
      await assert.rejects(stream.toArray(), coded('SWARM_ERR_REGISTRY_UNREACHABLE', /deadline|--registry-timeout/));
      const took = Date.now() - t0;
      assert.ok(took >= 900 && took <= 2500, `took ${took} ms`);
    } finally {
      clearInterval(collector);
      await slow.close();
    }
  });

  it('a redirect to another host is followed for a blob GET without the credentials', async () => {
    const body = randomBytes(5000);
    fake.handler = (req, res) => {
      if (!req.headers.authorization) return answer(res, 401, { 'www-authenticate': 'Basic realm="fake"' });
      answer(res, 307, { location: `${other.origin}/storage/blob?sig=1` });
    };
    other.handler = (_req, res) => answer(res, 200, {}, body);
    const got = Buffer.concat(await (await client.getBlob(repo, sha(body), { maxBytes: 1 << 20 })).toArray());
    assert.ok(got.equals(body));
    assert.deepEqual(other.seen.map((s) => [s.line, s.authorization]), [['GET /storage/blob?sig=1', undefined]]);
  });

  it('a redirect to another host that asks for the credentials gets none: SWARM_ERR_REGISTRY_DENIED', async () => {
    fake.handler = (req, res) => {
      if (!req.headers.authorization) return answer(res, 401, { 'www-authenticate': 'Basic realm="fake"' });
      answer(res, 302, { location: `${other.origin}/v2/team/web/blobs/x` });
    };
    other.handler = (_req, res) => answer(res, 401, { 'www-authenticate': 'Basic realm="phish"' });
    await assert.rejects(client.getBlob(repo, sha(Buffer.from('x')), { maxBytes: 1 << 20 }), coded('SWARM_ERR_REGISTRY_DENIED', /sends the credentials of .* to no other host/));
    assert.ok(other.seen.length >= 1 && other.seen.every((s) => s.authorization === undefined));
  });

  it('a redirect to plain HTTP is refused', async () => {
    fake.handler = (_req, res) => answer(res, 302, { location: `http://127.0.0.1:1/blob` });
    await assert.rejects(client.getBlob(repo, sha(Buffer.from('x')), { maxBytes: 1 << 20 }), coded('SWARM_ERR_REGISTRY_PROTOCOL', /neither HTTPS nor named by --registry-plain-http/));
  });

  it('answers a Bearer challenge with a token from the realm, asked with the login and the scope', async () => {
    const manifest = Buffer.from('{"schemaVersion":2}');
    fake.handler = (req, res) => {
      const url = new URL(req.url!, fake.origin);
      if (url.pathname === '/token') {
        assert.equal(url.searchParams.get('service'), 'fake-registry');
        assert.equal(url.searchParams.get('scope'), 'repository:team/web:pull');
        if (req.headers.authorization !== basic('fleet', 's3cret')) return answer(res, 401);
        return answer(res, 200, { 'content-type': 'application/json' }, '{"token":"tok-123"}');
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        return answer(res, 401, { 'www-authenticate': `Bearer realm="${fake.origin}/token",service="fake-registry",scope="repository:team/web:pull"` });
      }
      answer(res, 200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, manifest.toString());
    };
    assert.ok((await client.getManifest(repo, 'v1')).bytes.equals(manifest));
    assert.ok((await client.getManifest(repo, 'v1')).bytes.equals(manifest));
    // One challenge, one token, then the token is reused.
    assert.deepEqual(fake.seen.map((s) => s.line.split('?')[0]), ['GET /v2/team/web/manifests/v1', 'GET /token', 'GET /v2/team/web/manifests/v1', 'GET /v2/team/web/manifests/v1']);
  });

  it('a token service that refuses the login is SWARM_ERR_REGISTRY_DENIED, not retried', async () => {
    fake.handler = (req, res) => {
      if (req.url!.startsWith('/token')) return answer(res, 401);
      answer(res, 401, { 'www-authenticate': `Bearer realm="${fake.origin}/token",service="fake-registry"` });
    };
    await assert.rejects(client.getManifest(repo, 'v1'), coded('SWARM_ERR_REGISTRY_DENIED', /token service .* refused the login/));
    assert.equal(fake.seen.length, 2);
  });

  it('credentials are never put in an error message', async () => {
    fake.handler = (_req, res) => answer(res, 401, { 'www-authenticate': 'Basic realm="fake"' });
    await assert.rejects(client.getManifest(repo, 'v1'), (err: Error) => !err.message.includes('s3cret') && !JSON.stringify((err as SwarmError).details).includes('s3cret'));
  });
});
