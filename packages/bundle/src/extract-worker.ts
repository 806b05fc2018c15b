/**
 * Entry point of the extraction worker thread (see extract-release.ts). It stays alive between
 * extractions and unpacks one tarball per {@link WorkerJob} message, answering each with one
 * {@link WorkerOutcome}. An outcome is posted only once that job's last write is done and its
 * file descriptor closed, so the caller may settle (and delete the destination) on it.
 */
import { parentPort } from 'node:worker_threads';
import { isSwarmError } from '@swarm/errors';
import { DiskWriter } from './disk-writer.js';
import type { ExtractLimits } from './extract-limits.js';
import { unpackTarball } from './safe-unpack.js';

/** One extraction, as extract-release.ts hands it to the worker. */
export interface WorkerJob {
  /** Echoed in the outcome. */
  id: number;
  tarballPath: string;
  destDir: string;
  limits: ExtractLimits;
  umask: number;
  /** One Int32: set to 1 by the caller to ask for a stop between two chunks. */
  stop: SharedArrayBuffer;
}

/** An error as it crosses the thread boundary (structured clone drops custom fields). */
export interface WorkerFailure {
  /** A SWARM_ERR_* code, or a Node errno code for anything unexpected. */
  code?: string;
  swarm: boolean;
  name: string;
  message: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** The message the worker posts per job (`id` is the job's). */
export type WorkerOutcome = { id: number } & (
  { ok: true; entries: number; bytes: number } | { ok: false; error: WorkerFailure }
);

// One job at a time: the caller never posts a second job before the first one's outcome.
parentPort!.on('message', (job: WorkerJob) => void run(job));

async function run(job: WorkerJob): Promise<void> {
  const stop = new Int32Array(job.stop);
  try {
    const result = await unpackTarball({
      tarballPath: job.tarballPath,
      writer: new DiskWriter(job.destDir, job.umask),
      limits: job.limits,
      shouldStop: () => Atomics.load(stop, 0) === 1,
    });
    parentPort!.postMessage({ id: job.id, ok: true, ...result } satisfies WorkerOutcome);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    parentPort!.postMessage({
      id: job.id,
      ok: false,
      error: {
        swarm: isSwarmError(err),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        name: e.name,
        message: e.message,
        ...(isSwarmError(err) ? { details: err.details } : {}),
        ...(e.stack === undefined ? {} : { stack: e.stack }),
      },
    } satisfies WorkerOutcome);
  }
}
