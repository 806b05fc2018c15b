import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createUpdaterClient, type UpdaterClient, type UpdaterTarget } from '../src/index.js';
import { receiveUpload, type ReceivedUpload } from './fixtures/multipart-receiver.js';
import { makePki } from './fixtures/pki.js';
import { json, startUpdaterStub, type UpdaterStub } from './fixtures/updater-stub.js';

const SIZE = 200 * 1024 * 1024;
const MiB = 1024 * 1024;

let client: UpdaterClient;
let stub: UpdaterStub;
let target: UpdaterTarget;
let dir: string;

before(async () => {
  const pki = await makePki();
  client = createUpdaterClient(pki.master);
  stub = await startUpdaterStub({ caPem: pki.ca.certPem, cert: pki.updater });
  target = { host: 'h1', address: '127.0.0.1', port: stub.port, pin: pki.pin };
  dir = await mkdtemp(join(tmpdir(), 'swarm-client-memory-'));
});
after(async () => {
  await client.close();
  await stub.close();
  await rm(dir, { recursive: true, force: true });
});

it('streams a 200 MB release with memory far below its size', async (t) => {
  // A sparse file: 200 MB of zeros that cost no disk.
  const file = join(dir, 'huge.tgz');
  await writeFile(file, '');
  await truncate(file, SIZE);
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < SIZE / MiB; i++) hash.update(zeros);
  const sha256 = hash.digest('hex');

  let received!: ReceivedUpload;
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  stub.handler = async (req, res) => {
    received = await receiveUpload(req);
    sample();
    json(res, 200, { active: null, prev: null });
  };

  // Warm up the code paths (TLS, undici, the stub) so the baseline includes them.
  const small = join(dir, 'small.tgz');
  await writeFile(small, 'x');
  await client.update(target, { file: small, sha256: createHash('sha256').update('x').digest('hex'), size: 1 });

  const baseline = process.memoryUsage.rss();
  peak = baseline;
  let calls = 0;
  const started = performance.now();
  await client.update(target, {
    file,
    sha256,
    size: SIZE,
    onProgress: () => {
      if (++calls % 16 === 0) sample();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  sample();

  assert.equal(received.sha256, sha256);
  assert.equal(received.bytes, SIZE);
  const growthMb = (peak - baseline) / MiB;
  t.diagnostic(
    `200 MB upload: RSS baseline ${(baseline / MiB).toFixed(0)} MB, peak ${(peak / MiB).toFixed(0)} MB, growth ${growthMb.toFixed(1)} MB (client and stub server in one process); ${(SIZE / MiB / seconds).toFixed(0)} MB/s`,
  );
  assert.ok(growthMb < 100, `RSS grew by ${growthMb.toFixed(1)} MB while streaming 200 MB`);
});
