// The fleet: `swarm update --all` to N real updaters (separate processes) against
// `curl | xargs -P` pushes of the same tarball to N floor servers, at the same concurrency,
// interleaved A B A B. The floor servers do the floor's whole update (receive + hash, tar xzf,
// flip, restart to the first mTLS 200) before answering: the updaters do a whole update too, so
// an upload-only baseline would measure extraction and restarts, not the push.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRegistry } from '@swarm/inventory';
import { homePaths } from '@swarm/master';
import {
  COMMAND_TIMEOUT_MS,
  freePorts,
  settleDisk,
  startFloor,
  startUpdater,
  stopProcesses,
  SWARM_BIN,
} from './processes.mjs';
import { reapedChildrenCpuSeconds, treeCpuSeconds } from './proc-stats.mjs';
import { curlArgs } from './single-host.mjs';

const LIB = fileURLToPath(new URL('.', import.meta.url));

/** Run `argv` with `node --import rss-hook`, timing it from spawn to exit. */
export function timedNode(argv, rssFile) {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, ['--import', join(LIB, 'rss-hook.mjs'), ...argv], {
      env: { ...process.env, BENCH_RSS_FILE: rssFile, SWARM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - began;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve({ ms, out, rss: JSON.parse(readFileSync(rssFile, 'utf8')) });
    });
  });
}

/** `printf urls | xargs -P c -n 1 curl -T file …`, timed from spawn to exit. */
function curlXargs(pki, ports, file, concurrency) {
  return new Promise((resolve, reject) => {
    const args = curlArgs(pki, '', file).slice(0, -1); // the URL comes from xargs
    const began = performance.now();
    const child = spawn('xargs', ['-P', String(concurrency), '-n', '1', 'curl', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - began;
      const answers = (out.match(/"sha256"/g) ?? []).length;
      if (code !== 0 || answers !== ports.length) {
        reject(
          new Error(
            `curl | xargs exited ${code} with ${answers}/${ports.length} answers: ${err.slice(-1000)} ${out.slice(-3000)}`,
          ),
        );
      } else resolve({ ms });
    });
    child.stdin.end(ports.map((p) => `https://127.0.0.1:${p}/release?mode=full\n`).join(''));
  });
}

/**
 * Start `max(sizes)` updaters and as many floor servers, and install `first` everywhere
 * (untimed). Returns the fleet for {@link runFleet}.
 */
export async function prepareFleet({ work, pki, sizes, first, keep, useCli, log }) {
  const max = Math.max(...sizes);
  const names = Array.from({ length: max }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
  log(`fleet: starting ${max} updaters and ${max} floor servers`);
  const hosts = [];
  const ports = await freePorts(4 * max);
  for (const name of names) {
    const [updaterPort, agentPort, floorPort, floorAgentPort] = ports.splice(0, 4);
    hosts.push({
      product: await pki.host(name, { agentPort, updaterPort }),
      floorHost: await pki.host(`floor-${name}`, { agentPort: floorAgentPort, updaterPort: floorPort }),
    });
  }
  // A few at a time: each `swarm updater` start-up is ~0.9 CPU-s, on 2 cores.
  for (let i = 0; i < hosts.length; i += 8) {
    await Promise.all(
      hosts.slice(i, i + 8).map(async (h) => {
        h.updater = await startUpdater({
          bundleDir: h.product.bundleDir,
          installDir: join(work, 'fleet', h.product.name),
          port: h.product.updaterPort,
          agentPort: h.product.agentPort,
          keep,
          logLevel: 'info',
          useCli: useCli.updater,
        });
        h.floor = await startFloor({
          bundleDir: h.floorHost.bundleDir,
          dir: join(work, 'fleet', h.floorHost.name),
          port: h.floorHost.updaterPort,
          agentPort: h.floorHost.agentPort,
        });
      }),
    );
  }

  // One master home per fleet size, all with the same CA and master (copies of the bench home).
  const homes = new Map();
  for (const n of sizes) {
    const home = join(work, `home-${n}`);
    execFileSync('cp', ['-a', pki.home, home]);
    const registry = openRegistry(homePaths(home).registry, { create: false });
    for (const h of hosts.slice(0, n)) registry.addHost(h.product.record);
    registry.close();
    homes.set(n, home);
  }
  const fleet = { work, pki, hosts, homes, useCli, runs: 0 };
  log('fleet: installing the first release on every host (untimed)');
  // Untimed, so both sides at once.
  await Promise.all([pushProduct(fleet, max, 8, first), pushBaseline(fleet, max, 8, first)]);
  log('fleet: ready');
  return fleet;
}

/**
 * One timed CLI rollout to the first `n` hosts: `update` (the whole update), `stage`
 * (`update --stage-only`) or `activate` (`activate --tarball`: the switch to what `stage` left).
 */
async function pushProduct(fleet, n, concurrency, tarball, mode = 'update') {
  const { hosts, homes, useCli } = fleet;
  const rssDir = join(fleet.work, 'rss');
  mkdirSync(rssDir, { recursive: true });
  const cpuPids = hosts.slice(0, n).map((h) => h.updater.pid);
  settleDisk();
  const cpu0 = reapedChildrenCpuSeconds() + treeCpuSeconds(cpuPids);
  const home = homes.get(n);
  const argv =
    mode === 'activate'
      ? [SWARM_BIN, '--home', home, 'activate', '--all', '--tarball', tarball.file]
      : useCli.update
        ? [SWARM_BIN, '--home', home, 'update', '--all', '--tarball', tarball.file]
        : [join(LIB, 'fleet-master.mjs'), '--home', home, '--tarball', tarball.file];
  if (mode === 'stage') argv.push('--stage-only');
  // --canary 0: the canary is a policy (one host alone first); xargs has none.
  argv.push('--concurrency', String(concurrency), '--canary', '0', '--json');
  const r = await timedNode(argv, join(rssDir, `${++fleet.runs}.json`));
  const cpu1 = reapedChildrenCpuSeconds() + treeCpuSeconds(cpuPids);
  const result = JSON.parse(r.out);
  const expected = mode === 'stage' ? 'staged' : 'updated';
  const bad = result.results.filter((x) => x.outcome !== expected);
  if (bad.length > 0 || result.results.length !== n)
    throw new Error(`fleet ${mode}: ${JSON.stringify(bad).slice(0, 2000)}`);
  return { ms: r.ms, cpuS: cpu1 - cpu0, masterPeakRssBytes: r.rss.peakRssBytes, masterCpuS: r.rss.cpuS };
}

async function pushBaseline(fleet, n, concurrency, tarball) {
  const { hosts, pki } = fleet;
  const cpuPids = hosts.slice(0, n).map((h) => h.floor.pid);
  settleDisk();
  const cpu0 = reapedChildrenCpuSeconds() + treeCpuSeconds(cpuPids);
  const r = await curlXargs(
    pki,
    hosts.slice(0, n).map((h) => h.floorHost.updaterPort),
    tarball.file,
    concurrency,
  );
  const cpu1 = reapedChildrenCpuSeconds() + treeCpuSeconds(cpuPids);
  return { ms: r.ms, cpuS: cpu1 - cpu0 };
}

/**
 * For each N of `sizes` and each concurrency, `pairs` interleaved pairs (swarm update --all,
 * then curl | xargs -P), each pushing the next tarball of `packed`. On the largest fleet, each
 * pair also stages a further tarball everywhere (untimed) and times `swarm activate --all` of
 * it, to set against that pair's `swarm update --all`. Stops the fleet at the end.
 */
export async function runFleet(fleet, { packed, sizes, concurrencies, pairs, log }) {
  let next = 0;
  const rows = [];
  for (const n of sizes) {
    for (const concurrency of concurrencies) {
      for (let pair = 1; pair <= pairs; pair++) {
        const tarball = packed[next++];
        if (!tarball) throw new Error('fleet: not enough release versions packed');
        const load = loadavg()[0];
        const a = await pushProduct(fleet, n, concurrency, tarball);
        const b = await pushBaseline(fleet, n, concurrency, tarball);
        let activate = null;
        if (n === Math.max(...sizes) && fleet.useCli.update) {
          const staged = packed[next++];
          if (!staged) throw new Error('fleet: not enough release versions packed');
          await pushProduct(fleet, n, concurrency, staged, 'stage');
          activate = await pushProduct(fleet, n, concurrency, staged, 'activate');
        }
        rows.push({ n, concurrency, pair, version: tarball.version, load, product: a, baseline: b, activate });
        log(
          `fleet N=${n} c=${concurrency} pair ${pair}/${pairs}: swarm ${Math.round(a.ms)} ms, curl|xargs ${Math.round(b.ms)} ms ` +
            `(${(a.ms / b.ms).toFixed(2)}x), master peak RSS ${Math.round(a.masterPeakRssBytes / 1048576)} MB, ` +
            (activate
              ? `swarm activate ${Math.round(activate.ms)} ms (${(activate.ms / a.ms).toFixed(2)}x of update), `
              : '') +
            `load ${load.toFixed(1)}`,
        );
      }
    }
  }
  await stopProcesses(...fleet.hosts.flatMap((h) => [h.updater.child, h.floor.child]));
  return {
    workload: packed[0].name,
    via: fleet.useCli.update ? 'swarm update (CLI)' : 'engine (fleet-master.mjs)',
    rows,
  };
}

/** How many release versions the fleet pushes: the first install, one per pair, one more per pair of the largest fleet (staged, then activated). */
export function fleetVersions(sizes, concurrencies, pairs) {
  return 1 + (sizes.length + 1) * concurrencies.length * pairs;
}
