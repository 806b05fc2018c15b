import { mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { isSwarmError, isErrorCode, swarmError } from '@swarm/errors';
import type { WorkerFailure, WorkerJob, WorkerOutcome } from './extract-worker.js';
import { resolveExtractLimits, type ExtractLimits } from './extract-limits.js';
import { readManifest, type ReleaseManifest } from './manifest.js';

/** Options of {@link extractRelease}. */
export interface ExtractOptions {
  /** Caps on the archive; each one left out is taken from DEFAULT_EXTRACT_LIMITS. */
  limits?: Partial<ExtractLimits>;
  /**
   * Stops the extraction: the worker is told to stop before its next chunk (and terminated
   * if it has not stopped within a few seconds); the promise rejects with `signal.reason`
   * only once the worker has stopped writing (it answered, or it has exited), so the caller
   * may then delete `destDir`.
   */
  signal?: AbortSignal;
}

/** What {@link extractRelease} unpacked. */
export interface ExtractResult {
  /** The validated `release.json` found at the root of the release. */
  manifest: ReleaseManifest;
  /** Entries written: files, directories and symlinks. */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
}

/** How long an aborted worker may take to stop by itself before it is terminated. */
const ABORT_GRACE_MS = 5000;
/**
 * Heap cap of the worker: parsing needs a few MB whatever the archive, so a bug that
 * buffers ends the worker, not the updater.
 */
const WORKER_HEAP_MB = 256;

/**
 * Unpack the gzipped release tarball at `tarballPath` into `destDir` (which must be an
 * empty directory or not exist; it is created 0755), then read and validate its
 * `release.json`.
 *
 * Extraction runs in a worker thread, so the caller's event loop keeps serving (an
 * updater answers `GET /health` throughout). The worker is kept, idle and unref'd, for the
 * next extraction of the process: a fresh worker spends more CPU loading its modules and
 * running the tar parser cold than a warm one spends on the whole job (5 000 files: ~0.85
 * against ~0.4 CPU-s), for ~20 MB of resident memory while idle (wiki/benchmarks.md).
 * Every archive is treated as hostile: only regular files, directories and symlinks that
 * stay inside; an entry with the setuid or setgid bit refuses the archive; other modes
 * masked to 0755; owners never taken from the archive; limits on entries, sizes, depth and
 * path length; a gzip bomb is stopped as soon as the inflated stream outgrows the inflation
 * ratio (past its floor) or what the size limits allow.
 * Failures: SWARM_ERR_ARCHIVE_CORRUPT (not a complete gzipped tarball),
 * SWARM_ERR_ARCHIVE_UNSAFE `{ entry, reason }`, SWARM_ERR_ARCHIVE_LIMIT `{ limit, value }`,
 * SWARM_ERR_ARCHIVE_INFLATION_RATIO `{ inflatedBytes, compressedBytes, ... }`,
 * SWARM_ERR_ARCHIVE_WRITE_FAILED (disk full, permissions), and the manifest errors.
 *
 * The promise settles only once the worker has finished with `destDir` (its outcome is posted
 * after the last write and close, or it has exited): no write happens afterwards, and on
 * failure the caller can delete `destDir` at once. What was written is not fsynced
 * (thousands of fsyncs are slow): call {@link syncTree} once before activating it.
 */
export async function extractRelease(
  tarballPath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const limits = resolveExtractLimits(options.limits);
  const { signal } = options;
  signal?.throwIfAborted();
  const dest = resolve(destDir);
  await prepareDestination(dest);
  const outcome = await runJob(
    {
      tarballPath: resolve(tarballPath),
      destDir: dest,
      limits,
      // Read once here: modes are fixed up with fchmod only when the umask would narrow them.
      umask: process.umask(),
      stop: new SharedArrayBuffer(4),
    },
    signal,
  );
  if (!outcome.ok) throw revive(outcome.error);
  const manifest = await readManifest(dest);
  return { manifest, entries: outcome.entries, bytes: outcome.bytes };
}

async function prepareDestination(dest: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      try {
        await mkdir(dest, { recursive: true, mode: 0o755 });
        return;
      } catch (mkdirErr) {
        throw writeFailed(dest, mkdirErr);
      }
    }
    throw writeFailed(dest, err);
  }
  if (names.length > 0) {
    throw swarmError('SWARM_ERR_ARCHIVE_WRITE_FAILED', `cannot extract into ${dest}: the directory is not empty`, {
      path: dest,
    });
  }
}

/**
 * The worker kept between extractions, or null. One is enough: an updater extracts one release
 * at a time; a second concurrent extraction gets a worker of its own, terminated afterwards.
 */
let idleWorker: Worker | null = null;
let lastJobId = 0;

function acquireWorker(): Worker {
  const worker = idleWorker ?? spawnWorker();
  idleWorker = null;
  worker.ref();
  return worker;
}

function releaseWorker(worker: Worker): void {
  if (idleWorker !== null) {
    void worker.terminate();
    return;
  }
  // Unref'd while idle: a kept worker must never keep the process alive.
  worker.unref();
  idleWorker = worker;
}

/**
 * Run one job on a worker and settle with its outcome — or, when the worker dies or is
 * terminated (an abort it did not honour within ABORT_GRACE_MS), once it has exited.
 */
function runJob(input: Omit<WorkerJob, 'id'>, signal: AbortSignal | undefined): Promise<WorkerOutcome> {
  return new Promise((resolvePromise, reject) => {
    const worker = acquireWorker();
    const id = ++lastJobId;
    let crash: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onAbort = () => {
      Atomics.store(new Int32Array(input.stop), 0, 1);
      killTimer = setTimeout(() => void worker.terminate(), ABORT_GRACE_MS);
    };
    // The outcome is posted after the job's last write: the worker is free for the next one.
    const onMessage = (message: WorkerOutcome) => {
      if (message.id !== id) return;
      cleanup();
      releaseWorker(worker);
      if (signal?.aborted) reject(signal.reason);
      else resolvePromise(message);
    };
    const onError = (err: Error) => {
      crash = err;
    };
    const onExit = (code: number) => {
      cleanup();
      if (signal?.aborted) reject(signal.reason);
      else reject(crash ?? new Error(`the extraction worker exited with code ${code} without a result`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.once('exit', onExit);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ ...input, id } satisfies WorkerJob);
  });
}

function spawnWorker(): Worker {
  const options: WorkerOptions = { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  let worker: Worker;
  if (!import.meta.url.endsWith('.ts')) {
    worker = new Worker(new URL('./extract-worker.js', import.meta.url), options);
  } else {
    // Running from source under tsx (this package's tests): Node 20 does not apply the
    // parent's `--import tsx` inside worker threads, so the worker registers tsx itself
    // before loading the TypeScript entry point. Built code never takes this branch.
    const bootstrap = {
      tsx: import.meta.resolve('tsx/esm/api'),
      entry: new URL('./extract-worker.ts', import.meta.url).href,
    };
    worker = new Worker(TSX_BOOTSTRAP, { ...options, eval: true, workerData: { bootstrap } });
  }
  // A worker that dies while idle is simply forgotten; a job in flight has its own listeners.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    if (idleWorker === worker) idleWorker = null;
  });
  return worker;
}

const TSX_BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.bootstrap.tsx)
  .then((tsx) => { tsx.register(); return import(workerData.bootstrap.entry); })
  .catch((err) => {
    // The entry failed to load: answer the first job with why, then let the thread end.
    parentPort.once('message', (job) => parentPort.postMessage({ id: job.id, ok: false, error: { swarm: false, name: err.name, message: err.message, stack: err.stack } }));
  });
`;

/** Rebuild the worker's error on this side of the thread boundary. */
function revive(failure: WorkerFailure): Error {
  if (failure.swarm && isErrorCode(failure.code)) {
    return swarmError(failure.code, failure.message, failure.details ?? {});
  }
  if (failure.name === 'AbortError') return new DOMException(failure.message, 'AbortError');
  const err = new Error(failure.message) as Error & { code?: string };
  if (failure.code !== undefined) err.code = failure.code;
  if (failure.stack !== undefined) err.stack = failure.stack;
  return err;
}

function writeFailed(path: string, err: unknown) {
  if (isSwarmError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  return swarmError('SWARM_ERR_ARCHIVE_WRITE_FAILED', `cannot extract into ${path}: ${e.message}`, {
    path,
    errno: e.code,
  });
}
