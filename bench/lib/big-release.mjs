// Updater memory while receiving a 1 GB release (wiki/reference/guarantees.md#bounded-memory: memory independent of size).
//
// `receive` (quick mode): the tarball is a sparse file of 10^9 zero bytes — no disk used on the
// sending side. The updater receives, hashes and writes all of it, verifies the digest, then
// refuses it at extraction (not gzip: SWARM_ERR_ARCHIVE_CORRUPT): the receive is the whole
// of what is measured. `release` (full mode): a real, valid 1 GB release — a gzip of stored
// (level 0) blocks around a 10^9-byte file, so the upload is 1 GB — received, extracted,
// flushed, started and probed. A fresh updater process each time, so its VmHWM is this run's;
// it first installs a tiny release (untimed), so that what is measured is an updater in its
// steady state: an agent running, the extraction worker kept from the first update.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { freePorts, startDriver, startUpdater, stopProcesses } from './processes.mjs';
import { anonRssBytes, peakRssBytes, rssBytes, sampleRss } from './proc-stats.mjs';
import { AGENT_SOURCE, manifestFor, packFirstRelease } from './workload.mjs';

export const BIG_BYTES = 1e9;

function zeroDigest(bytes) {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1e6);
  for (let left = bytes; left > 0; left -= chunk.length)
    hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  return hash.digest('hex');
}

/** The sparse, not-a-tarball upload of the `receive` variant. */
function sparseUpload(dir) {
  const file = join(dir, 'zeros-1GB.bin');
  writeFileSync(file, '');
  truncateSync(file, BIG_BYTES);
  return { name: 'bench-big', version: '9.0.0', file, size: BIG_BYTES, sha256: zeroDigest(BIG_BYTES) };
}

/** A valid 1 GB release: GNU tar of release.json, server.mjs and a sparse 10^9-byte file, gzip level 0. */
async function storedRelease(dir) {
  const tree = join(dir, 'big-tree');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'server.mjs'), AGENT_SOURCE);
  writeFileSync(join(tree, 'release.json'), JSON.stringify(manifestFor('bench-big', '9.0.0')));
  writeFileSync(join(tree, 'blob.bin'), '');
  truncateSync(join(tree, 'blob.bin'), BIG_BYTES - 64 * 1024);
  const file = join(dir, 'big-9.0.0.tgz');
  const hash = createHash('sha256');
  let size = 0;
  const tar = spawn(
    'tar',
    ['cf', '-', '--owner=0', '--group=0', '--numeric-owner', '-C', tree, 'release.json', 'server.mjs', 'blob.bin'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const gzip = createGzip({ level: 0 });
  gzip.on('data', (c) => {
    hash.update(c);
    size += c.length;
  });
  await pipeline(tar.stdout, gzip, createWriteStream(file));
  return { name: 'bench-big', version: '9.0.0', file, size, sha256: hash.digest('hex') };
}

export async function runBigRelease({ work, pki, variant, useCli, log }) {
  const dir = join(work, 'big');
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const release = variant === 'receive' ? sparseUpload(dir) : await storedRelease(dir);
  log(`1 GB release (${variant}): tarball ready in ${Math.round(performance.now() - t0)} ms`);
  const [updaterPort, agentPort] = await freePorts(2);
  const host = await pki.host('big', { agentPort, updaterPort });
  const updater = await startUpdater({
    bundleDir: host.bundleDir,
    installDir: join(work, 'installs', 'big'),
    port: updaterPort,
    agentPort,
    keep: 2,
    useCli,
  });
  const driver = await startDriver(pki.files);
  const target = { host: host.name, address: '127.0.0.1', port: updaterPort, pin: host.record.updaterFingerprint };
  const first = await packFirstRelease('big', dir);
  const installed = await driver.send({ cmd: 'update', target, release: { ...first } });
  if (installed.result.outcome !== 'updated')
    throw new Error(`1 GB: first release: ${JSON.stringify(installed.result)}`);
  const idleRss = rssBytes(updater.pid);
  const idleAnon = anonRssBytes(updater.pid);
  log(`1 GB release (${variant}): pushing ${release.size} bytes; updater idle RSS ${Math.round(idleRss / 1048576)} MB`);
  const seen = updater.book.ops.size;
  const sampler = sampleRss(updater.pid, 20);
  const began = performance.now();
  const r = await driver.send({ cmd: 'update', target, release });
  const { samples, peak } = sampler.stop();
  const op = await updater.book.nextOp(seen, variant === 'receive' ? 'extract' : 'prune');
  const expected = variant === 'receive' ? 'failed' : 'updated';
  if (r.result.outcome !== expected) throw new Error(`1 GB ${variant}: ${JSON.stringify(r.result)}`);
  if (variant === 'receive' && r.result.error?.code !== 'SWARM_ERR_ARCHIVE_CORRUPT') {
    throw new Error(`1 GB receive: expected SWARM_ERR_ARCHIVE_CORRUPT, got ${JSON.stringify(r.result.error)}`);
  }
  const receiveEnd = op.seenAt.receive - began;
  const during = samples.filter((s) => s.t <= receiveEnd);
  const receivePeak = Math.max(...during.map((s) => s.rss));
  const receivePeakAnon = Math.max(...during.map((s) => s.anon));
  const result = {
    variant,
    bytes: release.size,
    ms: r.ms,
    steps: op.steps,
    receiveMBps: release.size / 1e6 / (op.steps.receive / 1000),
    idleRssBytes: idleRss,
    idleAnonRssBytes: idleAnon,
    receivePeakRssBytes: receivePeak,
    receivePeakAnonRssBytes: receivePeakAnon,
    operationPeakRssBytes: peak,
    processPeakRssBytes: peakRssBytes(updater.pid),
    samples: samples.length,
    // The RSS over time, every ~0.5 s: flat once the pipeline is full, whatever the size.
    rssSeries: samples
      .filter((x, i) => i % 25 === 0)
      .map((x) => ({ t: x.t, rssMB: Math.round(x.rss / 1048576), anonMB: Math.round(x.anon / 1048576) })),
  };
  log(
    `1 GB release (${variant}): receive ${Math.round(op.steps.receive)} ms (${result.receiveMBps.toFixed(0)} MB/s), ` +
      `updater peak RSS while receiving ${Math.round(receivePeak / 1048576)} MB ` +
      `(anonymous ${Math.round(receivePeakAnon / 1048576)} MB, idle ${Math.round(idleAnon / 1048576)} MB), process peak ${Math.round(result.processPeakRssBytes / 1048576)} MB`,
  );
  await stopProcesses(updater.child, driver.child);
  return result;
}
