/**
 * Network faults (issue 7 §6): the connection cut mid-upload — by the client, and by a TCP
 * proxy in the path at seeded offsets — the answer of a completed update lost on the way
 * back, and the updater stopped or killed mid-upload. Each time: nothing half-applied (the
 * host is on the old release or fully on the new one, nothing staged), and the next attempt
 * succeeds (a retry of an update that did complete is a no-op). The master killed
 * mid-rollout is covered by the CLI's own tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cloneInstall,
  fixtureRelease,
  installTemplate,
  startInProcess,
  startProcess,
  type KnownRelease,
} from './helpers/fixture.js';
import { FaultyUpdater, JOURNAL_TMP } from './helpers/fs-faults.js';
import { checkHost } from './helpers/invariants.js';
import { killProcessesUnder } from './helpers/processes.js';
import { intParam, prng } from './helpers/prng.js';
import { Results } from './helpers/results.js';
import { startCuttingProxy, type CuttingProxy } from './helpers/tcp-proxy.js';
import {
  createPkiFixture,
  freePort,
  multipart,
  openRequest,
  releaseDirs,
  updaterClient,
  waitFor,
  type PkiFixture,
  type UpdaterClient,
} from './helpers/package-helpers.js';

const SEED = intParam('SWARM_RELIABILITY_SEED', 20261122);
const CUTS = intParam('SWARM_RELIABILITY_NET_CUTS', 3);

let fx: PkiFixture;
let releases: KnownRelease[];
let template: string;
const results = new Results('network-faults', 'fast', { seed: SEED, cuts: CUTS });

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  // ~200 KB of incompressible bytes: an upload long enough to be cut in the middle.
  const files = { 'blob.txt': randomBytes(150_000).toString('base64') };
  releases = await Promise.all(
    ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0', '6.0.0', '7.0.0'].map((version) =>
      fixtureRelease(root, { version, files }),
    ),
  );
  template = await installTemplate(fx, [releases[0]!]);
});

after(async () => {
  await results.finish('Network faults', {
    'cases run': results.rows.length,
    'nothing half-applied, next attempt ok': results.rows.filter((r) => r.ok).length,
  });
  await killProcessesUnder(fx.root);
  await fx.cleanup();
});

/** A host on a copy of the template (v1 active) with an in-process updater. */
async function host() {
  const installDir = await cloneInstall(fx, template);
  const agentPort = await freePort();
  const u = await startInProcess(fx, installDir, agentPort);
  return { installDir, agentPort, u, client: u.client };
}

/** Start an upload of `release` and send `bytes` of its body, leaving the request open. */
async function partialUpload(port: number, release: KnownRelease, bytes: number) {
  const body = await multipart([
    { name: 'sha256', value: release.sha256 },
    { name: 'size', value: String(release.size) },
    { name: 'tarball', filename: 'release.tgz', path: release.file },
  ]);
  const open = openRequest({
    port,
    caPem: fx.ca.certPem,
    client: fx.master,
    path: '/update',
    headers: { 'content-type': body.contentType, 'content-length': body.length },
  });
  let sent = 0;
  for await (const chunk of body.stream as AsyncIterable<Buffer>) {
    const piece = chunk.subarray(0, Math.max(0, bytes - sent));
    if (piece.length > 0) open.req.write(piece);
    sent += piece.length;
    if (sent >= bytes) break;
  }
  return open;
}

/** The host's state, then the next attempt: `release` pushed again must be 200 and run. */
async function nothingHalfApplied(
  h: { installDir: string; agentPort: number },
  client: UpdaterClient,
  active: KnownRelease,
  next: KnownRelease,
): Promise<{ problems: string[]; retry: string }> {
  await waitFor('the updater to be idle', async () => (await client.health()).body.busy === false);
  const problems = await checkHost({ ...h, client }, { active });
  const again = await client.push(next);
  const retry = `${again.status} ${again.body?.outcome ?? again.body?.code}`;
  if (again.status !== 200) problems.push(`the next attempt answered ${again.status}: ${again.text.slice(0, 200)}`);
  problems.push(...(await checkHost({ ...h, client }, { active: next })));
  return { problems, retry };
}

describe('a connection cut mid-upload, an answer lost, an updater gone mid-upload', () => {
  it('the client disconnects mid-upload → nothing staged, v1 untouched; the retry succeeds', async () => {
    const h = await host();
    try {
      const [v1, v2] = [releases[0]!, releases[1]!];
      const open = await partialUpload(h.u.updater.address.port, v2, Math.floor(v2.size / 2));
      await waitFor('the upload to be staged', async () =>
        (await releaseDirs(h.installDir)).some((d) => d.startsWith('.staging-')),
      );
      open.req.destroy();
      const { problems, retry } = await nothingHalfApplied(h, h.client, v1, v2);
      results.add({
        case: 'client disconnects mid-upload',
        'after the fault': 'v1 active',
        retry,
        ok: problems.length === 0,
      });
      assert.deepEqual(problems, []);
    } finally {
      await h.u.close();
    }
  });

  it(`a proxy cuts the link mid-upload at ${CUTS} seeded offsets → each time v1 untouched; then the upload goes through`, async () => {
    const h = await host();
    let proxy: CuttingProxy | undefined;
    try {
      const [v1, v2] = [releases[0]!, releases[2]!];
      proxy = await startCuttingProxy(h.u.updater.address.port);
      const viaProxy = updaterClient(fx, proxy.port);
      const rng = prng(SEED);
      for (let i = 0; i < CUTS; i += 1) {
        const offset = rng.int(8 * 1024, Math.floor(v2.size * 0.9));
        proxy.plan({ afterClientBytes: offset });
        await assert.rejects(viaProxy.push(v2), 'the client saw its connection cut');
        await waitFor('the updater to be idle', async () => (await h.client.health()).body.busy === false);
        const problems = await checkHost({ ...h, client: h.client }, { active: v1 });
        results.add({
          case: `proxy cuts after ${offset} bytes`,
          'after the fault': 'v1 active',
          retry: '-',
          ok: problems.length === 0,
        });
        assert.deepEqual(problems, [], `cut after ${offset} bytes (seed ${SEED})`);
      }
      assert.equal(proxy.cuts, CUTS);
      proxy.plan(null);
      const { problems, retry } = await nothingHalfApplied(h, viaProxy, v1, v2);
      results.add({ case: 'then through the proxy, uncut', 'after the fault': '-', retry, ok: problems.length === 0 });
      assert.deepEqual(problems, []);
    } finally {
      await proxy?.close();
      await h.u.close();
    }
  });

  it('the answer of a completed update is lost on the way back → the update stands; the retry is a no-op', async () => {
    const h = await host();
    let proxy: CuttingProxy | undefined;
    try {
      const v2 = releases[3]!;
      proxy = await startCuttingProxy(h.u.updater.address.port);
      const viaProxy = updaterClient(fx, proxy.port);
      // Cut when the server speaks after the whole body went through: that is the answer.
      proxy.plan({ dropAnswer: v2.size + 1024 });
      await assert.rejects(viaProxy.push(v2), 'the client never got its answer');
      assert.equal(proxy.cuts, 1);
      proxy.plan(null);
      await waitFor('the updater to be idle', async () => (await h.client.health()).body.busy === false);
      const problems = await checkHost({ ...h, client: h.client }, { active: v2, last: { outcome: 'updated' } });
      const again = await viaProxy.push(v2);
      if (again.status !== 200 || again.body.outcome !== 'unchanged')
        problems.push(`the retry answered ${again.status} ${again.body?.outcome ?? again.text}`);
      results.add({
        case: 'answer lost after a completed update',
        'after the fault': 'v2 active (complete)',
        retry: `${again.status} ${again.body?.outcome}`,
        ok: problems.length === 0,
      });
      assert.deepEqual(problems, []);
    } finally {
      await proxy?.close();
      await h.u.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`the updater gets ${signal} mid-upload → after a restart nothing is half-applied; the next attempt succeeds`, async () => {
      const installDir = await cloneInstall(fx, template);
      const agentPort = await freePort();
      const [v1, v2] = [releases[0]!, releases[signal === 'SIGTERM' ? 4 : 5]!];
      const p = await startProcess(fx, installDir, agentPort);
      const open = await partialUpload(p.port, v2, Math.floor(v2.size / 2));
      await waitFor('the upload to be staged', async () =>
        (await releaseDirs(installDir)).some((d) => d.startsWith('.staging-')),
      );
      p.process.child.kill(signal);
      const exit = await p.process.exited;
      // A graceful stop undoes the operation and exits 0; a kill leaves it to recovery.
      if (signal === 'SIGTERM') assert.equal(exit.code, 0, p.process.stderr());
      else assert.equal(exit.signal, 'SIGKILL');
      await open.closed;
      const u = await startInProcess(fx, installDir, agentPort);
      try {
        const { problems, retry } = await nothingHalfApplied({ installDir, agentPort }, u.client, v1, v2);
        results.add({
          case: `updater ${signal} mid-upload`,
          'after the fault': 'v1 active',
          retry,
          ok: problems.length === 0,
        });
        assert.deepEqual(problems, []);
      } finally {
        await u.close();
      }
    });
  }

  it('regression: a connection that dies before the updater reads a byte does not leave it busy until the receive deadline', async () => {
    // Found by the seeded proxy cuts: a connection cut while the operation was being opened
    // (its first journal write, a few ms of fsync) was never noticed — the multipart reader
    // waited for a request that had already closed, until receiveTimeoutMs (30 min by
    // default), and every push meanwhile got 423. Here the journal write is held open (a
    // slow disk on demand) so the cut lands in that window every time.
    const installDir = await cloneInstall(fx, template);
    const agentPort = await freePort();
    const [v1, v2] = [releases[0]!, releases[6]!];
    const u = await FaultyUpdater.start(fx, installDir, agentPort, join(fx.root, 'hold.json'));
    const gate = join(fx.root, 'journal-gate');
    try {
      await u.arm('hold', [{ op: 'open', path: JOURNAL_TMP, nth: 1, hold: gate }]);
      const open = await partialUpload(u.port, v2, 4096);
      await waitFor('the update to start', async () => (await u.client.health()).body.busy === true);
      open.req.destroy();
      await open.closed;
      assert.equal((await u.client.health()).body.busy, true, 'still opening the operation');
      await writeFile(gate, '');
      // The idle timeout is the default 60 s and the receive deadline 30 min: only noticing
      // the closed connection ends the operation within seconds.
      await waitFor(
        'the updater to notice the closed connection',
        async () => (await u.client.health()).body.busy === false,
        10_000,
      );
      await u.disarm();
      const problems = await checkHost({ installDir, agentPort, client: u.client }, { active: v1 });
      const last = (await u.client.health()).body.lastUpdate;
      if (last?.error?.code !== 'SWARM_ERR_UPLOAD_INCOMPLETE') problems.push(`history: ${JSON.stringify(last?.error)}`);
      const again = await u.client.push(v2);
      if (again.status !== 200) problems.push(`the next attempt answered ${again.status}`);
      results.add({
        case: 'connection dies while the operation opens (regression)',
        'after the fault': 'v1 active',
        retry: `${again.status} ${again.body?.outcome ?? again.body?.code}`,
        ok: problems.length === 0,
      });
      assert.deepEqual(problems, []);
    } finally {
      await writeFile(gate, '').catch(() => undefined);
      await u.stop();
    }
  });
});
