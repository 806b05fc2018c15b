/**
 * Entry point of the extraction worker thread (see extract-release.ts). It unpacks one
 * tarball, posts one {@link WorkerOutcome} and exits; the caller settles only after the
 * exit, so no write can follow the settlement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSwarmError } from '@swarm/errors';
import type { ExtractLimits } from './extract-limits.js';
import { unpackTarball } from './safe-unpack.js';

/** What extract-release.ts hands the worker. */
export interface WorkerInput {
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

/** The one message the worker posts. */
export type WorkerOutcome = { ok: true; entries: number; bytes: number } | { ok: false; error: WorkerFailure };

const input = workerData as WorkerInput;
const stop = new Int32Array(input.stop);

try {
  const result = await unpackTarball({
    tarballPath: input.tarballPath,
    destDir: input.destDir,
    limits: input.limits,
    umask: input.umask,
    shouldStop: () => Atomics.load(stop, 0) === 1,
  });
  post({ ok: true, ...result });
} catch (err) {
  const e = err as Error & { code?: unknown };
  post({
    ok: false,
    error: {
      swarm: isSwarmError(err),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      name: e.name,
      message: e.message,
      ...(isSwarmError(err) ? { details: err.details } : {}),
      ...(e.stack === undefined ? {} : { stack: e.stack }),
    },
  });
}

function post(outcome: WorkerOutcome): void {
  parentPort!.postMessage(outcome);
}
