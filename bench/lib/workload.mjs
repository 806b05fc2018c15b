// Deterministic release trees: a node_modules-like application (many small text files, some
// binaries, optionally a few big random blobs) plus a trivial mTLS agent. Same seed, same bytes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packRelease } from '@swarm/bundle';
import { keystream, prng } from './seeded.mjs';

const KB = 1024;
const MB = 1024 * 1024;

/**
 * The workloads of issue 8. `fleet` is not one of the issue's: it is the agent plus a few
 * dozen files, pushed by the quick mode's fleet runs, where what is measured is the push
 * machinery (connections, scheduling, restarts, probes) rather than extraction, which the
 * single-host ratios already cover (see wiki/benchmarks.md).
 */
export const WORKLOADS = {
  small: { files: 5000, bytes: 30e6, binaryShare: 0.02, blobs: 0, blobBytes: 0 },
  large: { files: 20000, bytes: 200e6, binaryShare: 0.02, blobs: 4, blobBytes: 20 * MB },
  fleet: { files: 40, bytes: 200e3, binaryShare: 0, blobs: 0, blobBytes: 0 },
};

/**
 * Probe timings of the bench releases: short, so the probe policy does not dominate, and
 * reported apart (it is a policy, not a cost). The fleet release asks for no healthy window at
 * all: there both sides then wait for the same event, the agent's first mTLS 200, and the
 * policy's price is measured once, by the single-host runs.
 */
export const BENCH_HEALTH = { healthyForMs: 100, deadlineMs: 20_000 };
const FLEET_HEALTH = { healthyForMs: 0, deadlineMs: 20_000 };

/**
 * The agent every bench release ships: a few lines of Node serving /health over mTLS with the
 * agent certificate (SWARM_CERT/KEY/CA), requiring a client certificate of the CA, and
 * reporting its version. mTLS rather than a tcp check because the restart floor is defined as
 * "a process restart to the first mTLS 200": the product and the floor must wait for the same
 * event, and an https probe also checks the version, which a tcp connect would not.
 */
export const AGENT_SOURCE = `import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const version = process.env.SWARM_RELEASE_VERSION;
const tls = { key: readFileSync(process.env.SWARM_KEY), cert: readFileSync(process.env.SWARM_CERT), ca: readFileSync(process.env.SWARM_CA), requestCert: true, rejectUnauthorized: true };
createServer(tls, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ status: 'ok', version }));
}).listen(Number(process.env.SWARM_AGENT_PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const TOKENS = (
  'function const let var return if else for while of in new this class extends import export from default ' +
  'async await yield try catch finally throw typeof instanceof null undefined true false => === !== && || ?? ' +
  '( ) { } [ ] ; , . : = + - * / < > ! ? module exports require prototype length push map filter reduce ' +
  'Object.keys Array.isArray JSON.stringify Promise.resolve process.env Buffer.from Symbol.iterator'
).split(' ');
const SYLLABLES =
  'ab ac ad al am an ar as at ba be bo ca ce co da de di do el em en er es fa fi fo ga ge go ha he ' +
  'hi ho id il im in io is it ka ke ko la le li lo lu ma me mi mo mu na ne ni no nu ob of ol om on op or os ot ' +
  'pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu ul um un up ur us ut va ve vi vo za ze zi zo';
const SYL = SYLLABLES.split(' ');
const TEXT_EXT = ['.js', '.js', '.js', '.mjs', '.cjs', '.d.ts', '.d.ts', '.json', '.md', '.map', '.ts'];
const BIN_EXT = ['.node', '.wasm', '.png', '.woff2', '.gz'];
const SUBDIRS = ['', 'lib', 'lib', 'dist', 'dist/esm', 'dist/cjs', 'src', 'lib/internal', 'types', 'lib/util/helpers'];

function identifier(rng) {
  let s = '';
  const n = rng.int(2, 4);
  for (let i = 0; i < n; i++) s += rng.pick(SYL);
  return s;
}

/**
 * A few MB of JavaScript-looking text, as compressible as real packages: measured ~4.1x with
 * gzip per 8 KB file, against 4.2x for fastify, undici and typescript's own files. Like real
 * modules, each ~8 KB stretch has its own few identifiers and repeats some of its lines.
 */
function corpus(rng, bytes) {
  const parts = [];
  let size = 0;
  let depth = 0;
  while (size < bytes) {
    const local = Array.from({ length: 24 }, () => identifier(rng));
    const tokens = Array.from({ length: 40 }, () => rng.pick(TOKENS));
    const recent = [];
    for (let moduleSize = 0; moduleSize < 8000;) {
      let body;
      if (recent.length > 4 && rng.next() < 0.25) body = recent[rng.int(0, recent.length - 1)];
      else {
        body = '';
        const n = rng.int(3, 12);
        for (let i = 0; i < n; i++) body += (rng.next() < 0.4 ? rng.pick(local) : rng.pick(tokens)) + ' ';
        recent.push(body);
      }
      const line = `${'  '.repeat(depth)}${body}\n`;
      const step = rng.next();
      if (step < 0.15) depth = Math.min(depth + 1, 6);
      else if (step < 0.3) depth = Math.max(depth - 1, 0);
      parts.push(line);
      size += line.length;
      moduleSize += line.length;
    }
  }
  return Buffer.from(parts.join(''), 'latin1');
}

/** Sizes from 1 KiB to 50 KiB skewed towards small (`skew`), like a node_modules tree. */
function textSize(rng, skew) {
  return Math.round(KB * Math.pow(50, Math.pow(rng.next(), skew)));
}

function meanTextSize(skew) {
  // ∫0..1 50^(u^skew) du, numerically: good enough to aim the total.
  let sum = 0;
  const steps = 2000;
  for (let i = 0; i < steps; i++) sum += Math.pow(50, Math.pow((i + 0.5) / steps, skew));
  return (KB * sum) / steps;
}

/**
 * The file list of a workload: paths and sizes, deterministic. Text sizes are skewed so that the
 * total lands near the target (within a few %, then trimmed by the last files).
 */
function plan(spec, seed) {
  const rng = prng(`plan:${seed}`);
  const files = [];
  const blobs = spec.blobs;
  const binaries = Math.round((spec.files - blobs) * spec.binaryShare);
  const texts = spec.files - blobs - binaries - 2; // release.json and server.mjs
  for (let i = 0; i < blobs; i++) files.push({ kind: 'blob', size: spec.blobBytes });
  for (let i = 0; i < binaries; i++)
    files.push({ kind: 'binary', size: Math.round(8 * KB * Math.pow(16, rng.next())) });
  const fixed = files.reduce((s, f) => s + f.size, 0);
  const textMean = Math.max(KB, (spec.bytes - fixed) / Math.max(texts, 1));
  // Bisect the skew whose mean text size is textMean (mean falls as skew grows).
  let lo = 0.2;
  let hi = 20;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (meanTextSize(mid) > textMean) lo = mid;
    else hi = mid;
  }
  for (let i = 0; i < texts; i++) files.push({ kind: 'text', size: textSize(rng, lo) });
  // Shuffle (Fisher-Yates) so binaries and blobs land among the packages.
  for (let i = files.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [files[i], files[j]] = [files[j], files[i]];
  }
  // Lay the files out as packages of ~20 files each.
  const perPackage = 20;
  let pkg = '';
  files.forEach((f, i) => {
    if (i % perPackage === 0) {
      pkg = rng.next() < 0.15 ? `@${identifier(rng)}/${identifier(rng)}` : identifier(rng);
      pkg = `${pkg}-${Math.floor(i / perPackage)}`;
    }
    const base = `${identifier(rng)}-${i}`;
    const ext = f.kind === 'text' ? rng.pick(TEXT_EXT) : rng.pick(BIN_EXT);
    const dir = i % perPackage === 0 ? '' : rng.pick(SUBDIRS);
    const name = i % perPackage === 0 ? 'package.json' : `${base}${ext}`;
    f.path = ['node_modules', pkg, dir, name].filter(Boolean).join('/');
  });
  return files;
}

/** release.json of a bench release; `version` is what makes each pushed tarball new. */
export function manifestFor(name, version) {
  return {
    name,
    version,
    start: ['node', 'server.mjs'],
    health: {
      url: 'https://127.0.0.1:${SWARM_AGENT_PORT}/health',
      ...(name === 'bench-fleet' ? FLEET_HEALTH : BENCH_HEALTH),
    },
    stopTimeoutMs: 5000,
  };
}

/**
 * Write the tree of `workload` (a key of {@link WORKLOADS}) under `dir`. Returns its file count
 * and content bytes.
 */
export function writeTree(workload, dir, seed = 'swarm-bench-1') {
  const spec = WORKLOADS[workload];
  const files = plan(spec, `${workload}:${seed}`);
  const rng = prng(`content:${workload}:${seed}`);
  const text = corpus(rng, 4 * MB);
  const random = keystream(`bytes:${workload}:${seed}`);
  const made = new Set();
  let bytes = 0;
  for (const f of files) {
    const path = join(dir, f.path);
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    let content;
    if (f.kind === 'text') {
      const head = Buffer.from(`// ${f.path}\n`);
      const at = rng.int(0, text.length - f.size - 1);
      content = Buffer.concat([head, text.subarray(at, at + Math.max(0, f.size - head.length))]);
    } else {
      content = random(f.size);
    }
    writeFileSync(path, content);
    bytes += content.length;
  }
  writeFileSync(join(dir, 'server.mjs'), AGENT_SOURCE);
  writeFileSync(join(dir, 'release.json'), `${JSON.stringify(manifestFor(`bench-${workload}`, '0.0.0'), null, 2)}\n`);
  return { files: files.length + 2, bytes };
}

/**
 * Pack each version of the tree at `dir` (only release.json differs between versions) into
 * `outDir` with the product's own packer, as `swarm pack` would, `concurrency` at a time: each
 * version packs from its own hard-linked copy of the tree, with its own release.json.
 * Returns the PackResults in the order of `versions`.
 */
export async function packVersions(workload, dir, versions, outDir, concurrency = 2) {
  mkdirSync(outDir, { recursive: true });
  const results = new Array(versions.length);
  let next = 0;
  const worker = async () => {
    while (next < versions.length) {
      const i = next++;
      const version = versions[i];
      const tree = `${dir}.v${version}`;
      execFileSync('cp', ['-al', dir, tree]);
      // A hard link shares the inode: replace release.json, never write through it.
      unlinkSync(join(tree, 'release.json'));
      writeFileSync(
        join(tree, 'release.json'),
        `${JSON.stringify(manifestFor(`bench-${workload}`, version), null, 2)}\n`,
      );
      results[i] = await packRelease({ tree, out: join(outDir, `${workload}-${version}.tgz`) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/**
 * The tiny first release installed (untimed) before a host's measured pushes, so that each
 * measured push replaces a running agent: the agent and release.json alone, named like the
 * workload's releases.
 */
export function packFirstRelease(workload, dir) {
  const tree = join(dir, `first-${workload}`);
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'server.mjs'), AGENT_SOURCE);
  writeFileSync(join(tree, 'release.json'), `${JSON.stringify(manifestFor(`bench-${workload}`, '0.0.1'), null, 2)}\n`);
  return packRelease({ tree, out: join(dir, `first-${workload}.tgz`) });
}
