#!/usr/bin/env node
// Extraction alone, for working on @swarm/bundle: extractRelease (the updater's extraction)
// against GNU `tar xzf`, interleaved A B A B on the same tarball, each into a fresh directory.
// Nothing is deleted until the end (wiki/reference/platform-facts.md: deletions slow this disk down for minutes).
//
//   node bench/extract.mjs [--workload small|large] [--pairs N] [--tarball FILE] [--keep-work]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { extractRelease } from '@swarm/bundle';
import { reapedChildrenCpuSeconds } from './lib/proc-stats.mjs';
import { ratioSummary, summary } from './lib/stats.mjs';
import { packVersions, writeTree } from './lib/workload.mjs';

const execFileAsync = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'small' },
    pairs: { type: 'string', default: '7' },
    tarball: { type: 'string' },
    'keep-work': { type: 'boolean', default: false },
  },
});
const work = mkdtempSync(join(tmpdir(), 'swarm-bench-extract-'));
try {
  let tarball = args.tarball;
  if (!tarball) {
    writeTree(args.workload, join(work, 'tree'));
    [{ file: tarball }] = await packVersions(args.workload, join(work, 'tree'), ['1.0.0'], join(work, 'tarballs'), 1);
  }
  const ours = [];
  const gnu = [];
  const cpuOurs = [];
  const cpuGnu = [];
  const pairs = Number(args.pairs);
  for (let i = 0; i <= pairs; i++) {
    const a = join(work, `ours-${i}`);
    const b = join(work, `gnu-${i}`);
    let t = performance.now();
    let c = process.cpuUsage();
    await extractRelease(tarball, a);
    const oursMs = performance.now() - t;
    c = process.cpuUsage(c);
    const oursCpu = (c.user + c.system) / 1e6;
    mkdirSync(b);
    const c0 = reapedChildrenCpuSeconds();
    t = performance.now();
    await execFileAsync('tar', ['xzf', tarball, '-C', b]);
    const gnuMs = performance.now() - t;
    const gnuCpu = reapedChildrenCpuSeconds() - c0;
    process.stderr.write(
      `${i === 0 ? 'warm-up' : `pair ${i}`}: extractRelease ${Math.round(oursMs)} ms (${oursCpu.toFixed(2)} CPU-s), ` +
        `tar xzf ${Math.round(gnuMs)} ms (${gnuCpu.toFixed(2)} CPU-s), ${(oursMs / gnuMs).toFixed(2)}x, load ${loadavg()[0].toFixed(1)}\n`,
    );
    if (i === 0) continue;
    ours.push(oursMs);
    gnu.push(gnuMs);
    cpuOurs.push(oursCpu);
    cpuGnu.push(gnuCpu);
  }
  const r = ratioSummary(ours, gnu);
  const cpu = ratioSummary(cpuOurs, cpuGnu);
  process.stdout.write(
    `extraction / GNU tar: ${r.median.toFixed(2)}x (${r.min.toFixed(2)}–${r.max.toFixed(2)}), ` +
      `extractRelease ${Math.round(summary(ours).median)} ms, tar ${Math.round(summary(gnu).median)} ms; ` +
      `CPU ${cpu.median.toFixed(2)}x\n`,
  );
} finally {
  if (!args['keep-work']) rmSync(work, { recursive: true, force: true });
}
