// One host, one workload: the product's update (A) and the floor (B), interleaved A B A B, each
// pair pushing the same tarball. Per pair: end-to-end times, the updater's own step times (from
// its debug log), the floor's step times, CPU seconds of both sides, and a rollback.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  COMMAND_TIMEOUT_MS,
  freePorts,
  settleDisk,
  startDriver,
  startFloor,
  startUpdater,
  stopProcesses,
} from './processes.mjs';
import { reapedChildrenCpuSeconds, treeCpuSeconds } from './proc-stats.mjs';
import { BENCH_HEALTH } from './workload.mjs';

const execFileAsync = promisify(execFile);

/**
 * `curl -T` the tarball to a floor server over mTLS (master certificate, server pinned like the
 * master pins updaters). Returns the server's JSON answer plus curl's own total time.
 */
export async function curlPut(pki, port, file, mode) {
  const { stdout } = await execFileAsync(
    'curl',
    curlArgs(pki, `https://127.0.0.1:${port}/release?mode=${mode}`, file),
    {
      maxBuffer: 1024 * 1024,
      timeout: COMMAND_TIMEOUT_MS,
    },
  );
  const nl = stdout.lastIndexOf('\n');
  return { ...JSON.parse(stdout.slice(0, nl)), curlMs: Number(stdout.slice(nl + 1)) * 1000 };
}

/** curl's arguments for one mTLS PUT; `Expect:` off, as undici never waits for a 100. */
export function curlArgs(pki, url, file) {
  return [
    '-sS',
    '--fail-with-body',
    '-T',
    file,
    '-H',
    'Expect:',
    '--cacert',
    pki.files.ca,
    '--cert',
    pki.files.cert,
    '--key',
    pki.files.key,
    '--pinnedpubkey',
    pki.serverPin,
    '-w',
    '\n%{time_total}',
    url,
  ];
}

function release(packed) {
  return { name: packed.name, version: packed.version, file: packed.file, sha256: packed.sha256, size: packed.size };
}

/**
 * Install `first` (untimed), then run `pairs` measured pairs of `workload`: `packed[0]` is a
 * warm-up pair, not counted, when `warmup`; then one tarball per pair.
 */
export async function runSingleHost({
  work,
  pki,
  workload,
  first,
  packed,
  pairs,
  warmup,
  useCli,
  bundleBefore,
  keep,
  log,
}) {
  const [floorPort, floorAgentPort] = await freePorts(2);
  const floorHost = await pki.host(`${workload}-floor`, { agentPort: floorAgentPort, updaterPort: floorPort });
  const driver = await startDriver(pki.files);
  // Keep every release of the run unless told otherwise: no prune then deletes a tree inside a
  // timed phase (wiki/reference/platform-facts.md: deleting thousands of files slows file creation for minutes here).
  keep ??= packed.length + 3;
  const product = await productHost({
    work,
    pki,
    name: `${workload}-product`,
    keep,
    useCli,
    driver,
  });
  // --bundle-before: the same updater with an earlier build of @swarm/bundle, interleaved.
  const before = bundleBefore
    ? await productHost({
        work,
        pki,
        name: `${workload}-before`,
        keep,
        useCli,
        driver,
        bundleUrl: bundleBefore.url,
      })
    : null;
  const floor = await startFloor({
    bundleDir: floorHost.bundleDir,
    dir: join(work, 'installs', `${workload}-floor`),
    port: floorPort,
    agentPort: floorAgentPort,
  });

  const floorUpdate = async (packedRelease) => {
    settleDisk();
    const cpu0 = reapedChildrenCpuSeconds() + treeCpuSeconds([floor.pid]);
    const up = await curlPut(pki, floorPort, packedRelease.file, 'upload');
    const steps = await floor.send({ cmd: 'apply', file: up.file });
    const cpu1 = reapedChildrenCpuSeconds() + treeCpuSeconds([floor.pid]);
    if (up.sha256 !== packedRelease.sha256) throw new Error('the floor server hashed other bytes');
    const ms = up.curlMs + steps.extractMs + steps.flipMs + steps.restartMs;
    return {
      ms,
      cpuS: cpu1 - cpu0,
      uploadMs: up.curlMs,
      receiveMs: up.receiveMs,
      extractMs: steps.extractMs,
      flipMs: steps.flipMs,
      restartMs: steps.restartMs,
    };
  };

  log(`${workload}: installing the first release on every host (untimed)`);
  await product.update(first);
  if (before) await before.update(first);
  await floorUpdate(first);

  const rows = [];
  for (let i = 0; i < packed.length; i++) {
    const warm = warmup && i === 0;
    const pair = warmup ? i : i + 1;
    const load = loadavg()[0];
    // With a "before" updater, the two swarm runs swap places every pair (no first-mover edge).
    let after;
    let old = null;
    if (before && i % 2 === 1) old = await before.update(packed[i]);
    after = await product.update(packed[i]);
    if (before && i % 2 === 0) old = await before.update(packed[i]);
    const floorRun = await floorUpdate(packed[i]);
    const rollback = await product.rollback();
    if (before) await before.rollback();
    // The release just rolled back from is retained: stage it again (no extraction) and time
    // the switch alone, POST /activate — what `swarm activate` costs a host.
    const activation = await product.activate(packed[i]);
    const row = {
      pair,
      version: packed[i].version,
      load,
      product: after,
      floor: floorRun,
      rollback,
      activate: activation,
      ...(old ? { before: old } : {}),
    };
    log(
      `${workload} ${warm ? 'warm-up' : `pair ${pair}/${pairs}`}: swarm ${Math.round(after.ms)} ms, ` +
        `floor ${Math.round(floorRun.ms)} ms (${(after.ms / floorRun.ms).toFixed(2)}x), ` +
        (old ? `swarm with bundle ${bundleBefore.rev} ${Math.round(old.ms)} ms, ` : '') +
        `rollback ${Math.round(rollback.ms)} ms, activate ${Math.round(activation.ms)} ms, load ${load.toFixed(1)}`,
    );
    if (!warm) rows.push(row);
  }
  await stopProcesses(product.updater.child, ...(before ? [before.updater.child] : []), floor.child, driver.child);
  return { workload, healthyForMs: BENCH_HEALTH.healthyForMs, bundleBefore: bundleBefore?.rev ?? null, pairs: rows };
}

/**
 * One swarm host of a single-host run: its certificates, its updater process (with another
 * build of @swarm/bundle when `bundleUrl` is set), and the timed update and rollback through
 * the master driver. CPU counts the driver and the updater's whole process tree (agents too).
 */
async function productHost({ work, pki, name, keep, useCli, driver, bundleUrl }) {
  const [updaterPort, agentPort] = await freePorts(2);
  const host = await pki.host(name, { agentPort, updaterPort });
  const updater = await startUpdater({
    bundleDir: host.bundleDir,
    installDir: join(work, 'installs', name),
    port: updaterPort,
    agentPort,
    keep,
    useCli,
    bundleUrl,
  });
  const target = { host: host.name, address: '127.0.0.1', port: updaterPort, pin: host.record.updaterFingerprint };
  return {
    updater,
    async update(packedRelease) {
      settleDisk();
      const seen = updater.book.ops.size;
      const cpu0 = treeCpuSeconds([driver.pid, updater.pid]);
      const r = await driver.send({ cmd: 'update', target, release: release(packedRelease) });
      const cpu1 = treeCpuSeconds([driver.pid, updater.pid]);
      if (r.result.outcome !== 'updated')
        throw new Error(`update of ${packedRelease.version}: ${JSON.stringify(r.result)}`);
      const op = await updater.book.nextOp(seen, 'prune');
      return {
        ms: r.ms,
        cpuS: cpu1 - cpu0,
        steps: op.steps,
        healthyWindowMs: op.healthyWindowMs,
        probeChecks: op.probeChecks,
      };
    },
    async activate(packedRelease) {
      const staged = await driver.send({ cmd: 'stage', target, release: release(packedRelease) });
      if (staged.result.outcome !== 'staged') throw new Error(`stage: ${JSON.stringify(staged.result)}`);
      settleDisk();
      const seen = updater.book.ops.size;
      const r = await driver.send({ cmd: 'activate', target, release: release(packedRelease) });
      if (r.result.outcome !== 'updated') throw new Error(`activate: ${JSON.stringify(r.result)}`);
      const op = await updater.book.nextOp(seen, 'prune');
      return { ms: r.ms, steps: op.steps, healthyWindowMs: op.healthyWindowMs };
    },
    async rollback() {
      settleDisk();
      const seen = updater.book.ops.size;
      const r = await driver.send({ cmd: 'rollback', target });
      if (r.result.outcome !== 'rolled_back') throw new Error(`rollback: ${JSON.stringify(r.result)}`);
      const op = await updater.book.nextOp(seen, 'commit');
      return { ms: r.ms, steps: op.steps, healthyWindowMs: op.healthyWindowMs };
    },
  };
}
