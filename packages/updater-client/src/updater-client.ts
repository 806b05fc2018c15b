import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { createHttpAgent } from '@swarm/http';
import { reviveError, swarmError } from '@swarm/errors';
import { multipartUpload, checkUploadSource, type MultipartUpload, type UploadSource } from './multipart-upload.js';
import { PinBook } from './pin-book.js';
import { createPinnedConnector } from './pinned-connector.js';
import { DEFAULT_RETRY, RETRYABLE_STATUSES, parseRetryAfter, retryDelay, type RetryOptions } from './retry-policy.js';
import { originKey, originOf, targetDetails, type MasterIdentity, type UpdaterTarget } from './target.js';
import { interrupted, requestError, withDetails } from './transport-errors.js';
import {
  parseHealth,
  parseOperationResult,
  parseReleaseList,
  parseStageAnswer,
  type OperationResult,
  type ReleaseList,
  type StageAnswer,
  type UpdaterHealth,
} from '@swarm/protocol';

/** Connect budget: a host that has not completed TCP + TLS by then is reported unreachable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Budget of a mutating request, applied both to silence during the upload and to the wait
 * for the answer after it. The updater answers `POST /update` only once the release is
 * installed, activated and probed, or rolled back — so this covers the worst case of one
 * update with the updater's defaults: its install timeout (10 min), a probe (30 s), and on
 * failure a stop (10 s), the previous release's restart and its probe (30 s), plus margin.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15 * 60_000;

/** Budget of the read-only calls (`/health`, `/releases`): short, so `swarm status` stays snappy. */
export const DEFAULT_STATUS_TIMEOUT_MS = 5_000;

/** Longest wait, after a TLS 1.3 handshake, for the sign that the worker accepted our certificate. */
const ACCEPTANCE_WAIT_MS = 2_000;

/** Largest response body read: the updater's bodies are small; anything bigger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Options of {@link createUpdaterClient}. */
export interface UpdaterClientOptions {
  /** TCP connect + TLS handshake budget, ms (default {@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
  /**
   * Headers/body timeout of the mutating calls, ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS},
   * sized to the worst case of an update: install + probe + rollback).
   */
  readonly requestTimeoutMs?: number;
  /** Headers/body timeout of `/health` and `/releases`, ms (default {@link DEFAULT_STATUS_TIMEOUT_MS}). */
  readonly statusTimeoutMs?: number;
  /** Retries of 423/503 answers (default {@link DEFAULT_RETRY}); `{ attempts: 1 }` disables them. */
  readonly retries?: Partial<RetryOptions>;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the call; it then fails with SWARM_ERR_ROLLOUT_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** Options of {@link UpdaterClient.health}. */
export interface HealthOptions extends CallOptions {
  /** Overrides the client's `statusTimeoutMs` for this call. */
  readonly timeoutMs?: number;
}

/** Options of {@link UpdaterClient.update} and {@link UpdaterClient.updateSelf}. */
export interface UploadOptions extends UploadSource, CallOptions {
  /**
   * Called as the tarball is handed to the connection, with the tarball bytes sent so far
   * (0…size; multipart framing not counted). A retried upload starts again from 0.
   */
  readonly onProgress?: (bytesSent: number) => void;
}

/**
 * The master's client to the updaters (wiki/reference/updater-api.md). Every call goes over mutual TLS on a
 * fresh connection whose updater certificate is checked against the target's pin before
 * the request is written; every failure is a swarm error with the target's `host`,
 * `address` and `port` in its details.
 */
export interface UpdaterClient {
  /** `GET /health`: a snapshot, never retried (callers that wait for a state poll it). */
  health(target: UpdaterTarget, options?: HealthOptions): Promise<UpdaterHealth>;
  /** `GET /releases`: the releases the host retains. */
  releases(target: UpdaterTarget, options?: CallOptions): Promise<ReleaseList>;
  /** `POST /update`: push a release; resolves when it is installed, active and healthy. */
  update(target: UpdaterTarget, options: UploadOptions): Promise<OperationResult>;
  /** `POST /update-self`: push an updater release; resolves on 202 (staged and verified). */
  updateSelf(target: UpdaterTarget, options: UploadOptions): Promise<OperationResult>;
  /** `POST /rollback`: make the previous release active again. */
  rollback(target: UpdaterTarget, options?: CallOptions): Promise<OperationResult>;
  /** `POST /stage`: push a release to be activated later; resolves when it is staged, installed. */
  stage(target: UpdaterTarget, options: UploadOptions): Promise<StageAnswer>;
  /** `POST /activate`: activate the staged release with this digest (no transfer). */
  activate(target: UpdaterTarget, sha256: string, options?: CallOptions): Promise<OperationResult>;
  /**
   * `POST /pull`: the host fetches the release from an OCI registry by digest and updates
   * (or, with `stage`, stages) as `/update` (`/stage`) does; the answers are theirs.
   */
  pull(target: UpdaterTarget, artifact: ArtifactRef, options?: CallOptions): Promise<OperationResult>;
  /** `POST /pull` with `"stage": true`: the answer of `/stage`. */
  pullStaged(target: UpdaterTarget, artifact: ArtifactRef, options?: CallOptions): Promise<StageAnswer>;
  /** Close the dispatcher once in-flight calls are done. */
  close(): Promise<void>;
}

/** A release artifact on a registry, by digest: what `POST /pull` names. */
export interface ArtifactRef {
  /** `HOST[:PORT]` */
  readonly registry: string;
  readonly repository: string;
  /** The manifest's digest, `sha256:<64 hex>`. */
  readonly digest: string;
}

interface CallSpec<T> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly timeoutMs: number;
  readonly retry: boolean;
  readonly parse: (body: unknown) => T | undefined;
  readonly upload?: MultipartUpload;
  /** A small JSON body (POST /activate). */
  readonly json?: unknown;
  readonly onProgress?: ((bytesSent: number) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Create the client of one master identity: one undici dispatcher serves every host, with
 * the pinned connector (see `createPinnedConnector`) and no connection reuse — each request
 * runs on its own connection, so its pin is checked on the connection that carries it and a
 * POST never lands on a keep-alive socket the updater is closing.
 */
export function createUpdaterClient(identity: MasterIdentity, options: UpdaterClientOptions = {}): UpdaterClient {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const statusTimeoutMs = options.statusTimeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS;
  const retries: RetryOptions = { ...DEFAULT_RETRY, ...options.retries };
  const pins = new PinBook();
  const agent = createHttpAgent({
    connect: createPinnedConnector(identity, pins, {
      connectTimeoutMs,
      acceptanceWaitMs: Math.min(ACCEPTANCE_WAIT_MS, connectTimeoutMs),
    }),
    // 0 = no keep-alive: every request gets a connection of its own (see above).
    pipelining: 0,
  });

  async function call<T>(target: UpdaterTarget, spec: CallSpec<T>): Promise<T> {
    const origin = originOf(target);
    const key = originKey(origin);
    const details = targetDetails(target);
    const action = `${spec.method} ${spec.path}`;
    for (let attempt = 1; ; attempt += 1) {
      const bodySent = (): boolean => (spec.upload ? spec.upload.complete : spec.method === 'POST');
      if (spec.signal?.aborted) throw interrupted({ details, action, bodySent: false }, spec.signal.reason);
      const release = pins.reserve(key, target);
      let status: number;
      let retryAfter: string | string[] | undefined;
      let text: string;
      try {
        const response = await agent.request({
          origin,
          path: spec.path,
          method: spec.method,
          headers: spec.upload
            ? {
                accept: 'application/json',
                'content-type': spec.upload.contentType,
                'content-length': String(spec.upload.contentLength),
              }
            : spec.json !== undefined
              ? { accept: 'application/json', 'content-type': 'application/json' }
              : { accept: 'application/json' },
          // undici streams an async iterable with backpressure; its typings omit that body type.
          body: spec.upload
            ? (spec.upload.body(spec.onProgress) as unknown as Readable)
            : spec.json !== undefined
              ? JSON.stringify(spec.json)
              : null,
          headersTimeout: spec.timeoutMs,
          bodyTimeout: spec.timeoutMs,
          signal: spec.signal,
        });
        status = response.statusCode;
        retryAfter = response.headers['retry-after'];
        text = await readCapped(response.body, MAX_RESPONSE_BYTES, details, action);
      } catch (err) {
        throw requestError(err, {
          details,
          action,
          timeoutMs: spec.timeoutMs,
          bodySent: bodySent(),
          signal: spec.signal,
        });
      } finally {
        release();
      }

      const body = parseJson(text);
      if (status >= 200 && status < 300) {
        const parsed = body === undefined ? undefined : spec.parse(body);
        if (parsed === undefined) {
          throw swarmError(
            'SWARM_ERR_CLIENT_BAD_RESPONSE',
            `host ${target.host} answered ${action} with ${status} and a body swarm does not understand: ${text.slice(0, 200)}`,
            { ...details, status, body: text.slice(0, 2000) },
          );
        }
        return parsed;
      }
      if (spec.retry && RETRYABLE_STATUSES.has(status)) {
        const delay = retryDelay(attempt, parseRetryAfter(retryAfter), retries);
        if (delay !== null) {
          try {
            await sleep(delay, undefined, spec.signal ? { signal: spec.signal } : {});
          } catch (err) {
            throw interrupted({ details, action, bodySent: false }, err);
          }
          continue;
        }
      }
      const err = withDetails(reviveError(body ?? text.slice(0, 2000), status), details);
      if (attempt > 1) err.details = { ...err.details, attempts: attempt };
      throw err;
    }
  }

  async function upload<T>(
    target: UpdaterTarget,
    path: string,
    options: UploadOptions,
    parse: (body: unknown) => T | undefined,
  ): Promise<T> {
    originOf(target); // a bad address fails before the file is even looked at
    await checkUploadSource(options);
    return call(target, {
      method: 'POST',
      path,
      timeoutMs: requestTimeoutMs,
      retry: true,
      parse,
      upload: multipartUpload(options),
      onProgress: options.onProgress,
      signal: options.signal,
    });
  }

  return {
    health: (target, opts = {}) =>
      call(target, {
        method: 'GET',
        path: '/health',
        timeoutMs: opts.timeoutMs ?? statusTimeoutMs,
        retry: false,
        parse: parseHealth,
        signal: opts.signal,
      }),
    releases: (target, opts = {}) =>
      call(target, {
        method: 'GET',
        path: '/releases',
        timeoutMs: statusTimeoutMs,
        retry: true,
        parse: parseReleaseList,
        signal: opts.signal,
      }),
    update: (target, opts) => upload(target, '/update', opts, parseOperationResult),
    updateSelf: (target, opts) => upload(target, '/update-self', opts, parseOperationResult),
    stage: (target, opts) => upload(target, '/stage', opts, parseStageAnswer),
    activate: (target, sha256, opts = {}) =>
      call(target, {
        method: 'POST',
        path: '/activate',
        timeoutMs: requestTimeoutMs,
        retry: true,
        parse: parseOperationResult,
        json: { sha256 },
        signal: opts.signal,
      }),
    pull: (target, artifact, opts = {}) =>
      call(target, {
        method: 'POST',
        path: '/pull',
        timeoutMs: requestTimeoutMs,
        retry: true,
        parse: parseOperationResult,
        json: { registry: artifact.registry, repository: artifact.repository, digest: artifact.digest, stage: false },
        signal: opts.signal,
      }),
    pullStaged: (target, artifact, opts = {}) =>
      call(target, {
        method: 'POST',
        path: '/pull',
        timeoutMs: requestTimeoutMs,
        retry: true,
        parse: parseStageAnswer,
        json: { registry: artifact.registry, repository: artifact.repository, digest: artifact.digest, stage: true },
        signal: opts.signal,
      }),
    rollback: (target, opts = {}) =>
      call(target, {
        method: 'POST',
        path: '/rollback',
        timeoutMs: requestTimeoutMs,
        retry: true,
        parse: parseOperationResult,
        signal: opts.signal,
      }),
    close: () => agent.close(),
  };
}

/** Read a response body as text, refusing more than `limit` bytes. */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown },
  limit: number,
  details: ReturnType<typeof targetDetails>,
  action: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw swarmError(
        'SWARM_ERR_CLIENT_BAD_RESPONSE',
        `host ${details.host} answered ${action} with a body over ${limit} bytes: that is not an updater answer`,
        details,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
