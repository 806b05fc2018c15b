#!/usr/bin/env node
// swarm's benchmark (issue 8): the product against the physical floor, measured in the same run,
// interleaved, as ratios. Tables go to stdout, progress to stderr, the JSON to bench/results/.
// See wiki/benchmarks.md for what is measured and why.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const HELP = `Usage: npm run bench [-- options]    (node bench/run.mjs [options])

Measures swarm against the physical floor of this machine, in the same run, interleaved:
single-host updates of the seeded workloads, the updater's memory while receiving a 1 GB
release, and fleet pushes to real updater processes against curl | xargs -P.

Options:
  --quick                 small workload only, 3 pairs and no warm-up pair, receive-only
                          1 GB, 1 pair per fleet point (about 2 minutes on 2 idle cores)
  --pairs N               measured pairs per workload (default 5; quick 3)
  --workloads LIST        comma-separated: small,large (default both; quick small)
  --fleet-workload W      release pushed to the fleet: fleet or small (default fleet)
  --fleet-pairs N         pairs per fleet point (default 2; quick 1)
  --fleet-sizes LIST      fleet sizes (default 10,30)
  --concurrency LIST      fleet concurrencies (default 1,4,8)
  --big receive|release   1 GB run: receive only (quick) or a whole valid release (default)
  --skip LIST             suites to skip: single,big,fleet
  --keep N                single-host updaters keep N releases (default: all of the run, so
                          that no prune deletes a tree inside a timed phase; 2 is the
                          product's default and shows what pruning costs an update)
  --bundle-before REV     also run each single-host pair on an updater whose @swarm/bundle is
                          built from git revision REV, interleaved: before/after ratios of a
                          bundle change in the same run (e.g. --bundle-before HEAD)
  --keep-work             keep the work directory (trees, tarballs, installs) for inspection
  --json                  print the JSON report on stdout instead of the tables
  -h, --help              this help

Updaters run as a supervisor runs them, from the bundled updater release
(packages/updater/dist-self, built by npm run build); SWARM_BENCH_UPDATER=cli runs
\`swarm updater\` (the unbundled packages) instead.

Needs Linux (/proc), curl and GNU tar, and a built tree (npm run build).
Writes bench/results/<date>-<mode>.json and bench/results/latest-<mode>.json.`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pairs: { type: 'string' },
    workloads: { type: 'string' },
    'fleet-workload': { type: 'string', default: 'fleet' },
    'fleet-pairs': { type: 'string' },
    'fleet-sizes': { type: 'string', default: '10,30' },
    concurrency: { type: 'string', default: '1,4,8' },
    big: { type: 'string' },
    skip: { type: 'string', default: '' },
    'bundle-before': { type: 'string' },
    keep: { type: 'string' },
    'keep-work': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const list = (s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const count = (s, name) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) usage(`${name} must be a positive integer`);
  return n;
};
function usage(message) {
  process.stderr.write(`bench: ${message}\n\n${HELP}\n`);
  process.exit(2);
}

const mode = args.quick ? 'quick' : 'full';
const options = {
  pairs: count(args.pairs ?? (args.quick ? '3' : '5'), '--pairs'),
  workloads: list(args.workloads ?? (args.quick ? 'small' : 'small,large')),
  fleetWorkload: args['fleet-workload'],
  fleetPairs: count(args['fleet-pairs'] ?? (args.quick ? '1' : '2'), '--fleet-pairs'),
  fleetSizes: list(args['fleet-sizes']).map((s) => count(s, '--fleet-sizes')),
  concurrencies: list(args.concurrency).map((s) => count(s, '--concurrency')),
  big: args.big ?? (args.quick ? 'receive' : 'release'),
  keep: args.keep === undefined ? null : count(args.keep, '--keep'),
  // The untimed first install warms up both sides; full runs add a warm-up pair too.
  warmup: !args.quick,
  skip: new Set(list(args.skip)),
};
for (const w of [...options.workloads, options.fleetWorkload]) {
  if (!['small', 'large', 'fleet'].includes(w)) usage(`unknown workload ${w}`);
}
if (!['receive', 'release'].includes(options.big)) usage('--big must be receive or release');
if (args['bundle-before'] !== undefined && !/^[\w./~^@{}-]+$/.test(args['bundle-before']))
  usage('--bundle-before takes a git revision');
for (const s of options.skip) if (!['single', 'big', 'fleet'].includes(s)) usage(`unknown suite ${s}`);

// Preconditions, checked before anything is generated.
if (process.platform !== 'linux') usage('the benchmark reads /proc: Linux only');
for (const [tool, flag] of [
  ['curl', '--version'],
  ['tar', '--version'],
  ['xargs', '--version'],
]) {
  try {
    execFileSync(tool, [flag], { stdio: 'ignore' });
  } catch {
    usage(`${tool} is required`);
  }
}
for (const pkg of ['bundle', 'updater-client', 'master', 'pki', 'inventory', 'updater']) {
  if (!existsSync(join(ROOT, 'packages', pkg, 'dist', 'index.js')))
    usage(`packages/${pkg} is not built: run npm run build`);
}

// Imported only now: they load the built packages.
const { createBenchPki } = await import('./lib/pki.mjs');
const { packFirstRelease, packVersions, writeTree, WORKLOADS } = await import('./lib/workload.mjs');
const { runSingleHost } = await import('./lib/single-host.mjs');
const { runBigRelease } = await import('./lib/big-release.mjs');
const { fleetVersions, prepareFleet, runFleet } = await import('./lib/fleet.mjs');
const { cliHas, stopAll, UPDATER_RELEASE_ENTRY } = await import('./lib/processes.mjs');
const { fleetRatios, renderReport, singleHostRatios, stepBreakdown } = await import('./lib/report.mjs');

const log = (line) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
const started = performance.now();
const loadStart = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), 'swarm-bench-'));
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  void stopAll().finally(() => {
    if (!args['keep-work']) rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const useCli = { update: cliHas('update'), updater: cliHas('updater') };
const bundleBefore = args['bundle-before'] ? buildBundleAt(args['bundle-before']) : null;
// The earlier @swarm/bundle is swapped in by module resolution, which the bundled updater
// release does not do: both sides of a before/after run then use the unbundled updater.
if (bundleBefore) process.env.SWARM_BENCH_UPDATER = 'cli';
if (bundleBefore) log(`@swarm/bundle of ${bundleBefore.rev} built for the before/after runs`);
const updaterDriver =
  process.env.SWARM_BENCH_UPDATER !== 'cli' && existsSync(UPDATER_RELEASE_ENTRY)
    ? 'the updater release (packages/updater/dist-self/updater.mjs)'
    : useCli.updater
      ? 'swarm updater'
      : 'bench/lib/updater-main.mjs';
log(
  `work directory ${work}; driving updaters with ${updaterDriver}, fleets with ${useCli.update ? 'swarm update' : 'the engine (bench/lib/fleet-master.mjs)'}`,
);

const report = { meta: {}, options: { ...options, skip: [...options.skip] }, single: [], big: [], fleet: null };
try {
  const pki = await createBenchPki(work);
  log('PKI ready');

  // Trees and tarballs first, all of them: packing is CPU-heavy and must not overlap a timed
  // phase. (Starting the fleet meanwhile was tried: on 2 cores both took as long as in turn.)
  const needFleet = !options.skip.has('fleet');
  const singles = options.skip.has('single') ? [] : options.workloads;
  const trees = new Map();
  for (const w of new Set([...(needFleet ? [options.fleetWorkload] : []), ...singles])) {
    const dir = join(work, 'trees', w);
    const t0 = performance.now();
    const info = writeTree(w, dir);
    trees.set(w, { dir, ...info });
    log(
      `workload ${w}: ${info.files} files, ${(info.bytes / 1e6).toFixed(1)} MB written in ${Math.round(performance.now() - t0)} ms`,
    );
  }
  const tarballs = join(work, 'tarballs');
  const pack = async (w, versions) => {
    const t0 = performance.now();
    const packed = await packVersions(w, trees.get(w).dir, versions, tarballs);
    trees.get(w).tarballBytes = packed[0].size;
    log(
      `workload ${w}: ${versions.length} versions packed (${(packed[0].size / 1e6).toFixed(1)} MB each) in ${Math.round(performance.now() - t0)} ms`,
    );
    return packed;
  };
  const fleetCount = needFleet ? fleetVersions(options.fleetSizes, options.concurrencies, options.fleetPairs) : 0;
  const fleetVersionNames = Array.from({ length: fleetCount }, (_, i) => `2.${i}.0`);
  const fleetPacked = needFleet ? await pack(options.fleetWorkload, fleetVersionNames) : [];
  const singlePacked = new Map();
  for (const w of singles) {
    const count = options.pairs + (options.warmup ? 1 : 0);
    const first = await packFirstRelease(w, tarballs);
    singlePacked.set(w, {
      first,
      packed: await pack(
        w,
        Array.from({ length: count }, (_, i) => `1.${i}.0`),
      ),
    });
  }

  for (const w of singles) {
    report.single.push(
      await runSingleHost({
        work,
        pki,
        workload: w,
        ...singlePacked.get(w),
        pairs: options.pairs,
        warmup: options.warmup,
        useCli: useCli.updater,
        bundleBefore,
        keep: options.keep,
        log,
      }),
    );
  }
  if (!options.skip.has('big')) {
    report.big.push(await runBigRelease({ work, pki, variant: options.big, useCli: useCli.updater, log }));
  }
  if (needFleet) {
    const fleet = await prepareFleet({
      work,
      pki,
      sizes: options.fleetSizes,
      first: fleetPacked[0],
      keep: fleetCount + 2,
      useCli,
      log,
    });
    report.fleet = await runFleet(fleet, {
      packed: fleetPacked.slice(1),
      sizes: options.fleetSizes,
      concurrencies: options.concurrencies,
      pairs: options.fleetPairs,
      log,
    });
  }

  report.meta = {
    mode,
    date: new Date().toISOString(),
    node: process.version,
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memGB: Math.round(totalmem() / 1e9),
    disk: diskOf(work),
    loadStart,
    loadEnd: loadavg()[0],
    elapsedS: (performance.now() - started) / 1000,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain']) !== '',
    drivers: {
      updater: updaterDriver,
      fleet: useCli.update ? 'swarm update' : 'bench/lib/fleet-master.mjs',
    },
    workloads: Object.fromEntries(
      [...trees].map(([w, t]) => [
        w,
        { files: t.files, bytes: t.bytes, tarballBytes: t.tarballBytes, spec: WORKLOADS[w] },
      ]),
    ),
  };
  report.ratios = {
    single: report.single.flatMap(singleHostRatios),
    fleet: report.fleet ? fleetRatios(report.fleet) : [],
  };
  report.breakdown = Object.fromEntries(report.single.map((s) => [s.workload, stepBreakdown(s)]));

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(dir, `${report.meta.date.replace(/[:.]/g, '-')}-${mode}.json`), json);
  writeFileSync(join(dir, `latest-${mode}.json`), json);
  process.stdout.write(args.json ? json : `${renderReport(report)}\n`);
  log(`results written to bench/results/latest-${mode}.json`);
} catch (err) {
  if (!interrupted) {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
} finally {
  await stopAll();
  // Deleting trees slows file creation on this disk for minutes (wiki/reference/platform-facts.md): only at the very
  // end, and without making the caller wait for it (a run's trees take ~10 s to delete).
  if (!args['keep-work']) removeInBackground(work);
  else log(`work directory kept: ${work}`);
}

/** `rm -rf dir` in a detached process that outlives this one. */
function removeInBackground(dir) {
  spawn('rm', ['-rf', dir], { detached: true, stdio: 'ignore' }).unref();
}

/**
 * Build @swarm/bundle as it was at git revision `rev` into bench/results/bundle-<sha>/ (inside
 * the repository, so that its imports resolve to the installed dependencies).
 */
function buildBundleAt(rev) {
  const sha = git(['rev-parse', '--short', `${rev}^{commit}`]);
  if (!sha) usage(`--bundle-before: ${rev} is not a commit`);
  const dir = join(ROOT, 'bench', 'results', `bundle-${sha}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, 'src.tar');
  execFileSync('git', ['archive', '--format=tar', '-o', archive, sha, 'packages/bundle/src'], { cwd: ROOT });
  execFileSync('tar', ['xf', archive, '-C', dir, '--strip-components=2']);
  const tsconfig = {
    extends: '../../../tsconfig.base.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
    include: ['src'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
    stdio: 'inherit',
  });
  return { rev: sha, url: pathToFileURL(join(dir, 'dist', 'index.js')).href };
}

function git(argv) {
  try {
    return execFileSync('git', argv, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function diskOf(path) {
  try {
    const [, line] = execFileSync('df', ['-hT', path], { encoding: 'utf8' }).trim().split('\n');
    const [device, type, size, , avail] = line.split(/\s+/);
    return { device, type, size, avail, tmpdir: tmpdir() };
  } catch {
    return null;
  }
}
