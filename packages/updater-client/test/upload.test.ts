import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode, type SwarmError } from '@swarm/errors';
import { createUpdaterClient, type UpdaterClient, type UpdaterTarget } from '../src/index.js';
import { receiveUpload } from './fixtures/multipart-receiver.js';
import { makePki, type TestPki } from './fixtures/pki.js';
import { drain, json, release, startUpdaterStub, type Handler, type UpdaterStub } from './fixtures/updater-stub.js';

async function rejectsWith(fn: () => Promise<unknown>, code: string): Promise<SwarmError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(hasCode(err, code as never), `expected ${code}, got ${(err as { code?: string }).code}: ${(err as Error).message}`);
    return err as SwarmError;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Tarball {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

describe('uploads, retries and error revival', () => {
  let pki: TestPki;
  let client: UpdaterClient;
  let dir: string;
  let small: Tarball;
  let big: Tarball;
  let stub: UpdaterStub;
  let target: UpdaterTarget;

  const serve = (handler: Handler): void => {
    stub.handler = handler;
  };
  const resetCounts = async (): Promise<void> => {
    // Counters are cumulative; a fresh stub per test keeps the assertions simple.
    await stub.close();
    stub = await startUpdaterStub({ caPem: pki.ca.certPem, cert: pki.updater });
    target = { host: 'h1', address: '127.0.0.1', port: stub.port, pin: pki.pin };
  };

  before(async () => {
    pki = await makePki();
    client = createUpdaterClient(pki.master, { retries: { baseDelayMs: 10, maxDelayMs: 2_000 } });
    dir = await mkdtemp(join(tmpdir(), 'swarm-client-test-'));
    const makeTarball = async (name: string, bytes: number): Promise<Tarball> => {
      const file = join(dir, name);
      await writeFile(file, randomBytes(bytes));
      return { file, sha256: await sha256File(file), size: bytes };
    };
    small = await makeTarball('small.tgz', 1024 * 1024 + 17);
    big = await makeTarball('big.tgz', 8 * 1024 * 1024);
    stub = await startUpdaterStub({ caPem: pki.ca.certPem, cert: pki.updater });
  });
  after(async () => {
    await client.close();
    await stub.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the multipart upload the updater expects and returns its 200 body', async () => {
    await resetCounts();
    let received!: Awaited<ReturnType<typeof receiveUpload>>;
    serve(async (req, res) => {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/update');
      received = await receiveUpload(req);
      json(res, 200, { active: release('2.0.0', small.sha256), prev: release('1.0.0'), durationMs: 12 });
    });
    const progress: number[] = [];
    const result = await client.update(target, { ...small, onProgress: (n) => progress.push(n) });
    assert.deepEqual(received.fields, [
      ['sha256', small.sha256],
      ['size', String(small.size)],
    ]);
    assert.equal(received.filename, 'release.tgz');
    assert.equal(received.partContentType, 'application/gzip');
    assert.equal(received.sha256, small.sha256, 'the tarball part carries the file byte for byte');
    assert.equal(received.bytes, small.size);
    assert.equal(received.receivedLength, received.declaredLength, 'content-length is exact');
    assert.ok(received.closed, 'the body ends with the closing boundary');
    assert.equal(result.active?.version, '2.0.0');
    assert.equal(result.durationMs, 12);
    assert.equal(progress.at(-1), small.size);
    assert.ok(progress.length > 1, 'progress is reported as the file streams');
    assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]!), 'progress only grows');
  });

  it('update-self answers 202 and rollback 200, each body returned', async () => {
    await resetCounts();
    serve(async (req, res) => {
      if (req.url === '/update-self') {
        const up = await receiveUpload(req);
        json(res, 202, { accepted: true, sha256: up.sha256 });
      } else {
        assert.equal(req.url, '/rollback');
        await drain(req);
        json(res, 200, { active: release('1.0.0'), prev: release('2.0.0') });
      }
    });
    const accepted = await client.updateSelf(target, small);
    assert.equal(accepted.sha256, small.sha256);
    const rolledBack = await client.rollback(target);
    assert.equal(rolledBack.active?.version, '1.0.0');
  });

  it('retries a 423 after its Retry-After, re-opening the file, and succeeds', async () => {
    await resetCounts();
    const seen: number[] = [];
    let second!: Awaited<ReturnType<typeof receiveUpload>>;
    serve(async (req, res, n) => {
      seen.push(Date.now());
      if (n === 1) {
        // Refused before reading the body, as the updater does when it is busy.
        json(res, 423, { code: 'SWARM_ERR_UPDATER_BUSY', message: 'an update is in flight' }, { 'retry-after': '1', connection: 'close' });
        return;
      }
      second = await receiveUpload(req);
      json(res, 200, { active: release('2.0.0', small.sha256), prev: null });
    });
    const progress: number[] = [];
    const result = await client.update(target, { ...small, onProgress: (n) => progress.push(n) });
    assert.equal(result.active?.version, '2.0.0');
    assert.equal(stub.requests, 2);
    assert.equal(second.sha256, small.sha256, 'the retry sent the whole file again');
    assert.ok(seen[1]! - seen[0]! >= 900, `waited ${seen[1]! - seen[0]!} ms, Retry-After asked for 1 s`);
    assert.equal(progress.at(-1), small.size);
  });

  it('gives up on a host that stays busy and revives SWARM_ERR_UPDATER_BUSY', async () => {
    await resetCounts();
    serve((_req, res) =>
      json(res, 423, { code: 'SWARM_ERR_UPDATER_BUSY', message: 'rollback in flight', operation: 'rollback' }, { 'retry-after': '0', connection: 'close' }),
    );
    const busyClient = createUpdaterClient(pki.master, { retries: { attempts: 3, baseDelayMs: 5, maxDelayMs: 100 } });
    try {
      const err = await rejectsWith(() => busyClient.update(target, small), 'SWARM_ERR_UPDATER_BUSY');
      assert.equal(stub.requests, 3);
      assert.equal(err.details.attempts, 3);
      assert.equal(err.details.operation, 'rollback', 'details of the body are kept');
      assert.equal(err.details.host, 'h1');
      assert.equal(err.message, 'rollback in flight');
    } finally {
      await busyClient.close();
    }
  });

  it('does not retry when Retry-After asks for longer than maxDelayMs', async () => {
    await resetCounts();
    serve((_req, res) => json(res, 503, { code: 'SWARM_ERR_UPDATER_SHUTTING_DOWN', message: 'bye' }, { 'retry-after': '3600' }));
    await rejectsWith(() => client.rollback(target), 'SWARM_ERR_UPDATER_SHUTTING_DOWN');
    assert.equal(stub.requests, 1);
  });

  it('retries a 503 of a rollback', async () => {
    await resetCounts();
    serve((_req, res, n) =>
      n === 1
        ? json(res, 503, { code: 'SWARM_ERR_UPDATER_SHUTTING_DOWN', message: 'restarting' })
        : json(res, 200, { active: release('1.0.0'), prev: release('2.0.0') }),
    );
    assert.equal((await client.rollback(target)).active?.version, '1.0.0');
    assert.equal(stub.requests, 2);
  });

  it('surfaces an early 413 (body not read, connection closed) as UPLOAD_TOO_LARGE, not retried', async () => {
    await resetCounts();
    serve((_req, res) => {
      json(res, 413, { code: 'SWARM_ERR_UPLOAD_TOO_LARGE', message: 'over the 1 MiB cap', maxUploadBytes: 1048576 }, { connection: 'close' });
    });
    const err = await rejectsWith(() => client.update(target, big), 'SWARM_ERR_UPLOAD_TOO_LARGE');
    assert.equal(err.details.maxUploadBytes, 1048576);
    assert.equal(stub.requests, 1);
  });

  it('revives a known error code with every detail of the body', async () => {
    await resetCounts();
    const body = {
      code: 'SWARM_ERR_RELEASE_PROBE_FAILED',
      message: 'the release failed its health probe and was rolled back',
      phase: 'probe',
      detail: 'GET https://127.0.0.1:8765/health answered 503',
      agentOutput: 'listening on 8765\nunhealthy\n',
      active: release('1.0.0'),
    };
    serve(async (req, res) => {
      await drain(req);
      json(res, 409, body);
    });
    const err = await rejectsWith(() => client.update(target, small), 'SWARM_ERR_RELEASE_PROBE_FAILED');
    assert.equal(err.message, body.message);
    assert.equal(err.details.phase, 'probe');
    assert.equal(err.details.detail, body.detail);
    assert.equal(err.details.agentOutput, body.agentOutput);
    assert.deepEqual(err.details.active, body.active);
    assert.equal(err.details.host, 'h1');
    assert.equal(err.statusCode, 409);
    assert.equal(stub.requests, 1, 'a 409 is never retried');
  });

  const unexpected: [string, number, string, string][] = [
    ['an HTML 502 from a proxy', 502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['truncated JSON', 500, 'application/json', '{"code":"SWARM_ERR_UPDATER_INTERNAL","mess'],
    ['an empty body', 500, 'application/json', ''],
    ['an unknown code', 500, 'application/json', '{"code":"SWARM_ERR_FROM_THE_FUTURE","message":"?"}'],
    ['JSON that is not an object', 400, 'application/json', '[1,2,3]'],
    ['a 200 with HTML', 200, 'text/html', '<html>ok</html>'],
    ['a 200 with a malformed release', 200, 'application/json', '{"active":{"id":42}}'],
    ['a body over 1 MiB', 500, 'application/json', JSON.stringify({ code: 'SWARM_ERR_UPDATER_INTERNAL', message: 'x'.repeat(2 * 1024 * 1024) })],
  ];
  for (const [what, status, type, text] of unexpected) {
    it(`turns ${what} into CLIENT_BAD_RESPONSE without crashing`, async () => {
      await resetCounts();
      serve(async (req, res) => {
        await drain(req);
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
      const err = await rejectsWith(() => client.update(target, small), 'SWARM_ERR_CLIENT_BAD_RESPONSE');
      assert.equal(err.details.host, 'h1');
      if (text.length < 1024 * 1024) assert.equal(err.details.status, status);
    });
  }

  it('reports a host that never answers as TIMEOUT, saying the update may still complete', async () => {
    await resetCounts();
    serve(async (req) => {
      await drain(req); // takes the whole upload, then never answers
    });
    const slow = createUpdaterClient(pki.master, { requestTimeoutMs: 300, statusTimeoutMs: 300 });
    try {
      const err = await rejectsWith(() => slow.update(target, small), 'SWARM_ERR_CLIENT_TIMEOUT');
      assert.equal(err.details.bodySent, true);
      assert.match(err.message, /may still complete/);
      assert.equal(stub.requests, 1, 'a timeout is never retried');
      await rejectsWith(() => slow.health(target), 'SWARM_ERR_CLIENT_TIMEOUT');
      await rejectsWith(() => client.health(target, { timeoutMs: 200 }), 'SWARM_ERR_CLIENT_TIMEOUT');
    } finally {
      await slow.close();
    }
  });

  it('reports a connection cut after the upload as CONNECTION_LOST, not retried', async () => {
    await resetCounts();
    serve(async (req) => {
      await drain(req);
      req.socket.destroy();
    });
    const err = await rejectsWith(() => client.update(target, small), 'SWARM_ERR_CLIENT_CONNECTION_LOST');
    assert.match(err.message, /may still complete/);
    assert.equal(stub.requests, 1);
  });

  it('an aborted push fails with ROLLOUT_INTERRUPTED and says what the host may still do', async () => {
    await resetCounts();
    serve(async (req) => {
      await drain(req);
    });
    const controller = new AbortController();
    const pending = client.update(target, { ...small, signal: controller.signal });
    await waitFor(() => stub.requests === 1);
    controller.abort();
    const err = await rejectsWith(() => pending, 'SWARM_ERR_ROLLOUT_INTERRUPTED');
    assert.equal(err.details.host, 'h1');
    const already = new AbortController();
    already.abort();
    await rejectsWith(() => client.health(target, { signal: already.signal }), 'SWARM_ERR_ROLLOUT_INTERRUPTED');
  });

  it('an abort during the upload says the host discards it', async () => {
    await resetCounts();
    let answer!: () => void;
    const never = new Promise<void>((resolve) => (answer = resolve));
    serve(async () => {
      await never; // reads nothing: the upload stalls on backpressure
    });
    const controller = new AbortController();
    const err = await rejectsWith(
      () => client.update(target, { ...big, signal: controller.signal, onProgress: (n) => n > 0 && controller.abort() }),
      'SWARM_ERR_ROLLOUT_INTERRUPTED',
    );
    assert.equal(err.details.bodySent, false);
    assert.match(err.message, /discards it/);
    answer();
  });

  it('checks the tarball locally before contacting the host', async () => {
    await resetCounts();
    await rejectsWith(() => client.update(target, { ...small, size: small.size + 1 }), 'SWARM_ERR_UPLOAD_SIZE_MISMATCH');
    await rejectsWith(() => client.update(target, { ...small, sha256: 'ABC' }), 'SWARM_ERR_UPLOAD_DIGEST_INVALID');
    await rejectsWith(() => client.update(target, { ...small, file: join(dir, 'missing.tgz') }), 'SWARM_ERR_USAGE_INVALID');
    await rejectsWith(() => client.update({ ...target, pin: null }, small), 'SWARM_ERR_CLIENT_PIN_MISSING');
    assert.equal(stub.tcpConnections, 0);
  });

  it('fails the push when the file shrinks while it is being sent', async () => {
    await resetCounts();
    const file = join(dir, 'shrinking.tgz');
    await writeFile(file, randomBytes(2 * 1024 * 1024));
    const source = { file, sha256: await sha256File(file), size: 2 * 1024 * 1024 };
    serve(async (req, res) => {
      await drain(req);
      json(res, 200, {});
    });
    let cut = false;
    const err = await rejectsWith(
      () =>
        client.update(target, {
          ...source,
          onProgress: () => {
            if (!cut) {
              cut = true;
              void truncate(file, 100_000);
            }
          },
        }),
      'SWARM_ERR_UPLOAD_SIZE_MISMATCH',
    );
    assert.equal(err.details.host, 'h1');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
