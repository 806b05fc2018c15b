#!/usr/bin/env node
// Pull against push (issue 14): the same fleet of real updaters updated by `swarm update
// --tarball` (the master uploads the tarball to every host) and by `swarm update --from`
// (every host pulls it from a real docker-registry by digest), interleaved in the same run.
// Measured: wall time of each rollout, and the bytes the master sent to the hosts, counted by a
// TCP relay in front of each updater (both modes go through it). See wiki/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';
import { openRegistry } from '@swarm/inventory';
import { homePaths } from '@swarm/master';
import { timedNode } from './lib/fleet.mjs';
import { createBenchPki } from './lib/pki.mjs';
import { freePorts, settleDisk, startUpdater, stopAll, SWARM_BIN } from './lib/processes.mjs';
import { median } from './lib/stats.mjs';
import { packVersions, writeTree } from './lib/workload.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELP = `Usage: node bench/pull.mjs [--hosts N] [--concurrency LIST] [--pairs N] [--workload fleet|small]
                          [--uplink-mbit N] [--json]

A fleet of N real updaters (default 30) updated by push (swarm update --tarball) and by pull
(swarm update --from, from a real docker-registry with TLS and htpasswd), interleaved, at each
concurrency (default 4,8), --pairs times each (default 2). Prints wall times, their ratio, and
the bytes the master sent per host in each mode. --uplink-mbit N gives the master's link to the
hosts that rate (the registry's is not limited): loopback has no uplink to saturate otherwise.
Needs docker-registry and htpasswd.`;

const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '4,8' },
    pairs: { type: 'string', default: '2' },
    workload: { type: 'string', default: 'fleet' },
    'uplink-mbit': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const N = Number(args.hosts);
const concurrencies = args.concurrency.split(',').map(Number);
const pairs = Number(args.pairs);
const started = performance.now();
const log = (line) => process.stderr.write(`[bench:pull ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

/**
 * The master's uplink, shared by every relay: with `--uplink-mbit`, the bytes the master sends
 * to the hosts pass at most at that rate (a token bucket; the registry's own link is not
 * throttled — in pull mode the bytes travel there, which is the point).
 */
const uplink = {
  bitsPerMs: args['uplink-mbit'] ? Number(args['uplink-mbit']) * 1000 : null,
  nextFree: 0,
  /** When a chunk of `bytes` may leave. */
  reserve(bytes) {
    const now = performance.now();
    this.nextFree = Math.max(now, this.nextFree) + (bytes * 8) / this.bitsPerMs;
    return this.nextFree - now;
  },
};

/** A TCP relay in front of one updater: counts the bytes the client sends through it. */
function relay(targetPort) {
  const counter = { bytes: 0, connections: 0 };
  const server = createServer((client) => {
    counter.connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    client.on('data', (chunk) => {
      counter.bytes += chunk.length;
      const wait = uplink.bitsPerMs ? uplink.reserve(chunk.length) : 0;
      if (wait < 1) return void upstream.write(chunk);
      client.pause();
      setTimeout(() => {
        upstream.write(chunk);
        client.resume();
      }, wait);
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, counter, close: () => server.close() })),
  );
}

const work = mkdtempSync(join(tmpdir(), 'swarm-bench-pull-'));
let registry = null;
// Ctrl-C or kill: stop the updaters (and their agents) and remove the work directory.
const onSignal = () => {
  void stopAll().finally(() => {
    registry?.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
const { startRegistry } = await tsImport('../packages/oci-client/test/fixtures/docker-registry.ts', import.meta.url);
const relays = [];
try {
  const pki = await createBenchPki(work);
  registry = await startRegistry();
  const auth = ['--registry-auth', registry.authFile, '--registry-ca', registry.caFile];
  log(`registry at ${registry.host}; PKI ready`);

  const tree = join(work, 'trees', args.workload);
  writeTree(args.workload, tree);
  // One to install by push and one to pull (both untimed, to warm each path up), then one per
  // timed rollout.
  const versions = Array.from({ length: 2 + 2 * concurrencies.length * pairs }, (_, i) => `3.${i}.0`);
  const packed = await packVersions(args.workload, tree, versions, join(work, 'tarballs'));
  log(`${versions.length} versions of ${args.workload} packed (${packed[0].size} bytes each)`);

  // The hosts, each behind a relay; the home records the relay's port.
  const ports = await freePorts(2 * N);
  const hosts = [];
  for (let i = 0; i < N; i++) {
    const [updaterPort, agentPort] = ports.splice(0, 2);
    hosts.push({ product: await pki.host(`h${String(i + 1).padStart(2, '0')}`, { agentPort, updaterPort }) });
  }
  for (let i = 0; i < hosts.length; i += 8) {
    await Promise.all(
      hosts.slice(i, i + 8).map(async (h) => {
        h.updater = await startUpdater({
          bundleDir: h.product.bundleDir,
          installDir: join(work, 'fleet', h.product.name),
          port: h.product.updaterPort,
          agentPort: h.product.agentPort,
          keep: versions.length + 2,
          // 'info' at least: startUpdater waits for the "updater ready" line.
          logLevel: 'info',
          useCli: true,
          extraFlags: auth,
        });
        h.relay = await relay(h.product.updaterPort);
        relays.push(h.relay);
      }),
    );
  }
  const home = join(work, 'home');
  const inventory = openRegistry(homePaths(home).registry, { create: false });
  for (const h of hosts) inventory.addHost({ ...h.product.record, updaterPort: h.relay.port });
  inventory.close();
  log(`${N} updaters started behind relays`);

  // Publish every version (untimed), and install the first everywhere by push (untimed).
  const published = [];
  for (const p of packed) {
    const r = await timedNode(
      [SWARM_BIN, '--home', home, 'publish', `${registry.host}/bench/app:${p.version}`, '--tarball', p.file, ...auth, '--json'],
      join(work, 'rss.json'),
    );
    published.push(JSON.parse(r.out));
  }
  log('published');

  const sent = () => relays.reduce((sum, r) => sum + r.counter.bytes, 0);
  const connections = () => relays.reduce((sum, r) => sum + r.counter.connections, 0);
  async function rollout(mode, i, concurrency) {
    const source = mode === 'push' ? ['--tarball', packed[i].file] : ['--from', published[i].reference, ...auth];
    settleDisk();
    const before = sent();
    const connectionsBefore = connections();
    const r = await timedNode(
      [SWARM_BIN, '--home', home, 'update', '--all', ...source, '--concurrency', String(concurrency), '--canary', '0', '--json'],
      join(work, 'rss.json'),
    );
    const result = JSON.parse(r.out);
    const bad = result.results.filter((x) => x.outcome !== 'updated');
    if (bad.length > 0 || result.results.length !== N) throw new Error(`${mode}: ${JSON.stringify(bad).slice(0, 2000)}`);
    return {
      ms: r.ms,
      bytesPerHost: (sent() - before) / N,
      connectionsPerHost: (connections() - connectionsBefore) / N,
      masterCpuS: r.rss.cpuS,
    };
  }
  // Untimed: the first release by push, the second by pull — an updater's first pull pays
  // once for what its first push paid at install (code paths, the registry's TLS context).
  await rollout('push', 0, 8);
  await rollout('pull', 1, 8);
  log('warmed up: one push and one pull rollout, untimed');

  const rows = [];
  let next = 2;
  for (const concurrency of concurrencies) {
    for (let pair = 1; pair <= pairs; pair++) {
      // Alternate which mode goes first, so neither always follows the other.
      const order = pair % 2 === 1 ? ['push', 'pull'] : ['pull', 'push'];
      const row = { concurrency, pair, load: loadavg()[0] };
      for (const mode of order) row[mode] = await rollout(mode, next++, concurrency);
      rows.push(row);
      log(
        `c=${concurrency} pair ${pair}: push ${Math.round(row.push.ms)} ms (${Math.round(row.push.bytesPerHost)} B/host), ` +
          `pull ${Math.round(row.pull.ms)} ms (${Math.round(row.pull.bytesPerHost)} B/host in ${row.pull.connectionsPerHost} connections), pull/push ${(row.pull.ms / row.push.ms).toFixed(2)}x`,
      );
    }
  }
  const summary = concurrencies.map((c) => {
    const mine = rows.filter((r) => r.concurrency === c);
    return {
      concurrency: c,
      pushMs: median(mine.map((r) => r.push.ms)),
      pullMs: median(mine.map((r) => r.pull.ms)),
      ratio: median(mine.map((r) => r.pull.ms / r.push.ms)),
      pushBytesPerHost: median(mine.map((r) => r.push.bytesPerHost)),
      pullBytesPerHost: median(mine.map((r) => r.pull.bytesPerHost)),
    };
  });
  const report = {
    meta: {
      date: new Date().toISOString(),
      cpus: cpus().length,
      node: process.version,
      hosts: N,
      workload: args.workload,
      tarballBytes: packed[0].size,
      uplinkMbit: args['uplink-mbit'] ? Number(args['uplink-mbit']) : null,
    },
    rows,
    summary,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const name = `latest-pull-${args.workload}${args['uplink-mbit'] ? `-${args['uplink-mbit']}mbit` : ''}.json`;
  writeFileSync(join(ROOT, 'bench/results', name), `${JSON.stringify(report, null, 2)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const link = args['uplink-mbit'] ? `, master uplink ${args['uplink-mbit']} Mbit/s` : ', loopback (no uplink limit)';
    process.stdout.write(`pull against push: ${N} updaters, ${args.workload} release of ${packed[0].size} bytes${link}, ${pairs} pair(s) per concurrency\n\n`);
    process.stdout.write('| concurrency | push (median) | pull (median) | pull/push | master→hosts per host, push | pull |\n| --- | --- | --- | --- | --- | --- |\n');
    for (const s of summary) {
      process.stdout.write(
        `| ${s.concurrency} | ${(s.pushMs / 1000).toFixed(2)} s | ${(s.pullMs / 1000).toFixed(2)} s | ${s.ratio.toFixed(2)}× | ${Math.round(s.pushBytesPerHost)} B | ${Math.round(s.pullBytesPerHost)} B |\n`,
      );
    }
  }
} finally {
  for (const r of relays) r.close();
  await stopAll();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
}
