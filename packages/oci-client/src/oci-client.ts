import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSwarmError, swarmError } from '@swarm/errors';
import { createHttpAgent, type HttpAgent, type HttpResponse } from '@swarm/http';
import { parseChallenge, type Challenge } from './challenge.js';
import type { RegistryCredentials } from './docker-config.js';
import type { Repository } from './reference.js';
import { registryFailure, transportFailure, type FailureContext } from './registry-errors.js';
import { registrySecureContext } from './trust-store.js';

/** `--registry-timeout`'s default: the deadline of one registry call, retries included. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 15 * 60_000;

/** Largest manifest read: a bigger one is refused from its Content-Length or at the cap. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Blobs larger than this are uploaded in PATCH chunks of this size. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

/** Longest silence (no headers, no body bytes) of one request, within the deadline. */
const SILENCE_MS = 60_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Options of {@link createOciClient}. */
export interface OciClientOptions {
  /** Logins by registry (a Docker `config.json`, see `readDockerConfig`). */
  readonly credentials?: RegistryCredentials;
  /** CA certificates trusted besides the system's (`--registry-ca`), PEM. */
  readonly caPem?: string;
  /** Registries (`HOST[:PORT]`) spoken to over plain HTTP (`--registry-plain-http`); never implied. */
  readonly plainHttp?: readonly string[];
  /** Deadline of one call, retries with back-off included, ms (default {@link DEFAULT_REGISTRY_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** First and largest back-off between retries, ms (default 250 and 10 000). */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
  /** PATCH chunk size of blob uploads (default {@link DEFAULT_CHUNK_BYTES}). */
  readonly chunkBytes?: number;
}

/** Options of one call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** An absolute deadline (epoch ms) shared by several calls, instead of `timeoutMs` from now. */
  readonly deadline?: number;
}

/** A manifest as the registry stored it: its exact bytes and their digest. */
export interface Manifest {
  readonly bytes: Buffer;
  /** `sha256:…` of `bytes`. */
  readonly digest: string;
  /** The Content-Type the registry gave. */
  readonly mediaType: string;
}

/** A blob to upload: its size and a way to read it (again, or a byte range of it). */
export interface BlobSource {
  readonly size: number;
  /** The bytes, or those from `start` to `end` inclusive. Called again on a retry. */
  open(range?: { readonly start: number; readonly end: number }): Readable | Buffer;
}

/** An OCI distribution client: manifests and blobs of repositories on registries. */
export interface OciClient {
  /** GET a manifest by tag or digest; by digest, its bytes are checked against it. */
  getManifest(repo: Repository, reference: string, options?: CallOptions): Promise<Manifest>;
  /** PUT a manifest under a tag or its digest; returns its digest. */
  putManifest(repo: Repository, reference: string, manifest: { bytes: Buffer; mediaType: string }, options?: CallOptions): Promise<string>;
  /** HEAD a blob: its size, or null when the registry does not have it. */
  blobSize(repo: Repository, digest: string, options?: CallOptions): Promise<number | null>;
  /**
   * GET a blob, streamed: the stream fails with SWARM_ERR_ARTIFACT_TOO_LARGE as soon as it
   * passes `maxBytes` (from the Content-Length, before reading, when the registry says so) and
   * with SWARM_ERR_ARTIFACT_DIGEST_MISMATCH at its end when the bytes are not `digest`.
   */
  getBlob(repo: Repository, digest: string, options: CallOptions & { readonly maxBytes: number }): Promise<Readable>;
  /** Upload a blob unless the registry has it; `pushed` says whether bytes were sent. */
  pushBlob(repo: Repository, digest: string, source: BlobSource, options?: CallOptions): Promise<{ pushed: boolean }>;
  close(): Promise<void>;
}

interface Exchange {
  readonly repo: Repository;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  /** A path on the registry, or an absolute URL (an upload's Location). */
  readonly url: string | URL;
  readonly headers?: Record<string, string>;
  readonly body?: () => Readable | Buffer | string;
  /** Asks for `pull,push` rather than `pull`. */
  readonly push?: boolean;
  /** What the call is, for messages: `GET manifest team/web:1.0`. */
  readonly action: string;
}

/** A failure worth another attempt: the connection, a 429 or a 5xx. */
class Retryable extends Error {
  constructor(
    readonly failure: Error,
    readonly retryAfterMs: number | null = null,
  ) {
    super(failure.message);
  }
}

/**
 * Create a client. One undici agent, keep-alive, TLS verified against the system's CAs (and
 * Node's, and `NODE_EXTRA_CA_CERTS`) plus `caPem`.
 */
export function createOciClient(options: OciClientOptions = {}): OciClient {
  const credentials = options.credentials ?? new Map();
  const plainHttp = new Set((options.plainHttp ?? []).map((h) => h.toLowerCase()));
  const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
  const backoff = options.backoff ?? { firstMs: 250, maxMs: 10_000 };
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const agent: HttpAgent = createHttpAgent({
    // The system's CAs, Node's, NODE_EXTRA_CA_CERTS and --registry-ca, parsed once for the client.
    connect: { secureContext: registrySecureContext(options.caPem) },
  });
  /** Authorization header values by `registry` (Basic) and `registry scope` (Bearer). */
  const authorizations = new Map<string, string>();

  const originOf = (registry: string): string =>
    `${plainHttp.has(registry.toLowerCase()) ? 'http' : 'https'}://${registry}`;
  const scopeOf = (x: Exchange): string => `repository:${x.repo.repository}:${x.push ? 'pull,push' : 'pull'}`;

  /** One attempt: credentials on the registry's origin only, the auth challenge answered once, redirects followed. */
  async function attempt(x: Exchange, signal: AbortSignal, silenceMs: number, ctx: FailureContext): Promise<HttpResponse> {
    const registryOrigin = originOf(x.repo.registry);
    let url = new URL(x.url, registryOrigin);
    let challenged = false;
    for (let hop = 0; ; ) {
      const sameOrigin = url.origin === registryOrigin;
      const headers: Record<string, string> = { 'user-agent': 'swarm', ...x.headers };
      const authorization = sameOrigin
        ? (authorizations.get(`${x.repo.registry} ${scopeOf(x)}`) ?? authorizations.get(x.repo.registry))
        : undefined;
      if (authorization) headers.authorization = authorization;
      let res: HttpResponse;
      try {
        res = await agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: x.method,
          headers,
          body: x.body ? x.body() : null,
          headersTimeout: silenceMs,
          bodyTimeout: silenceMs,
          signal,
        });
      } catch (err) {
        throw classify(transportFailure(err, { ...ctx, host: url.host }, signal));
      }
      const status = res.statusCode;
      if (status === 401) {
        const challenge = parseChallenge(res.headers['www-authenticate']);
        await discard(res);
        if (!sameOrigin) {
          throw registryFailure('SWARM_ERR_REGISTRY_DENIED', ctx, `it was redirected to ${url.host}, which asks for credentials; swarm sends the credentials of ${x.repo.registry} to no other host`);
        }
        if (challenged) {
          throw registryFailure('SWARM_ERR_REGISTRY_DENIED', ctx, `the registry refused the credentials of ${x.repo.registry} (check --registry-auth: user name, password, and the repository's permissions)`);
        }
        challenged = true;
        await authorize(x, challenge, signal, silenceMs, ctx);
        continue;
      }
      if (REDIRECTS.has(status) && (x.method === 'GET' || x.method === 'HEAD')) {
        const location = header(res, 'location');
        await discard(res);
        if (!location) throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `it answered ${status} without a Location`);
        if (++hop > MAX_REDIRECTS) throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `more than ${MAX_REDIRECTS} redirects`);
        url = new URL(location, url);
        if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHttp.has(url.host.toLowerCase()))) {
          throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `it redirected to ${url.protocol}//${url.host}, which is neither HTTPS nor named by --registry-plain-http`);
        }
        continue;
      }
      if (status === 429 || status >= 500) {
        const retryAfter = retryAfterMs(header(res, 'retry-after'));
        await discard(res);
        throw new Retryable(registryFailure('SWARM_ERR_REGISTRY_UNREACHABLE', { ...ctx, status }, `it answered ${status}`), retryAfter);
      }
      return res;
    }
  }

  /** Answer a 401's challenge: a Bearer token from the realm (with the login, if any) or Basic. */
  async function authorize(x: Exchange, challenge: Challenge | null, signal: AbortSignal, silenceMs: number, ctx: FailureContext): Promise<void> {
    const login = credentials.get(x.repo.registry.toLowerCase());
    const basic = login ? `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` : null;
    if (challenge?.scheme === 'basic' || (challenge === null && basic)) {
      if (!basic) throw registryFailure('SWARM_ERR_REGISTRY_DENIED', ctx, `it asks for a login and --registry-auth has none for ${x.repo.registry}`);
      authorizations.set(x.repo.registry, basic);
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw registryFailure('SWARM_ERR_REGISTRY_DENIED', ctx, `it answered 401 without a Basic or Bearer challenge swarm can answer`);
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `its token realm ${JSON.stringify(challenge.params.realm)} is not a URL`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && plainHttp.has(realm.host.toLowerCase()))) {
      throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `its token realm ${realm.origin} is neither HTTPS nor named by --registry-plain-http`);
    }
    const scope = challenge.params.scope ?? scopeOf(x);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    let res: HttpResponse;
    try {
      res = await agent.request({
        origin: realm.origin,
        path: `${realm.pathname}${realm.search}`,
        method: 'GET',
        headers: { 'user-agent': 'swarm', accept: 'application/json', ...(basic ? { authorization: basic } : {}) },
        headersTimeout: silenceMs,
        bodyTimeout: silenceMs,
        signal,
      });
    } catch (err) {
      throw classify(transportFailure(err, { ...ctx, host: realm.host }, signal));
    }
    if (res.statusCode === 429 || res.statusCode >= 500) {
      await discard(res);
      throw new Retryable(registryFailure('SWARM_ERR_REGISTRY_UNREACHABLE', { ...ctx, status: res.statusCode }, `its token service ${realm.host} answered ${res.statusCode}`));
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await discard(res);
      throw registryFailure('SWARM_ERR_REGISTRY_DENIED', ctx, `its token service ${realm.host} refused ${login ? `the login of ${x.repo.registry} (check --registry-auth)` : 'an anonymous token (add a login to --registry-auth)'}`);
    }
    const text = await readText(res, 64 * 1024, ctx);
    const token = tokenOf(res.statusCode, text);
    if (!token) throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `its token service ${realm.host} answered ${res.statusCode} without a token`);
    authorizations.set(`${x.repo.registry} ${scopeOf(x)}`, `Bearer ${token}`);
  }

  /** Attempts with exponential back-off until the deadline, for Retryable failures only. */
  async function exchange(x: Exchange, call: CallOptions = {}): Promise<HttpResponse> {
    const deadline = call.deadline ?? Date.now() + timeoutMs;
    const ctx: FailureContext = { registry: x.repo.registry, action: x.action };
    let lastFailure: Error | null = null;
    for (let n = 1; ; n++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw deadlinePassed(ctx, n - 1, lastFailure);
      const expiry = AbortSignal.timeout(remaining);
      const signal = call.signal ? AbortSignal.any([call.signal, expiry]) : expiry;
      try {
        return await attempt(x, signal, Math.min(SILENCE_MS, remaining), ctx);
      } catch (err) {
        if (expiry.aborted && !call.signal?.aborted) throw deadlinePassed(ctx, n, lastFailure);
        if (!(err instanceof Retryable)) throw err;
        lastFailure = err.failure;
        if (call.signal?.aborted) throw call.signal.reason;
        const wait = Math.max(err.retryAfterMs ?? 0, jitter(Math.min(backoff.maxMs, backoff.firstMs * 2 ** (n - 1))));
        if (Date.now() + wait >= deadline) throw deadlinePassed(ctx, n, err.failure);
        await sleep(wait, undefined, call.signal ? { signal: call.signal } : undefined);
      }
    }
  }

  /** A non-2xx answer that is not retried: 401/403 denied, 404 not found, the rest off-protocol. */
  async function unexpected(res: HttpResponse, ctx: FailureContext): Promise<Error> {
    const text = await readText(res, 4096, ctx).catch(() => '');
    const said = registrySays(text);
    const status = res.statusCode;
    const code =
      status === 401 || status === 403
        ? 'SWARM_ERR_REGISTRY_DENIED'
        : status === 404
          ? 'SWARM_ERR_REGISTRY_NOT_FOUND'
          : 'SWARM_ERR_REGISTRY_PROTOCOL';
    return registryFailure(code, { ...ctx, status }, `it answered ${status}${said ? ` (${said})` : ''}`);
  }

  const blobPath = (repo: Repository, digest: string) => `/v2/${repo.repository}/blobs/${digest}`;

  async function blobSize(repo: Repository, digest: string, call?: CallOptions): Promise<number | null> {
    const action = `HEAD blob ${repo.repository}@${digest}`;
    const res = await exchange({ repo, method: 'HEAD', url: blobPath(repo, digest), action }, call);
    await discard(res);
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw await unexpected(res, { registry: repo.registry, action });
    const length = Number(header(res, 'content-length'));
    return Number.isSafeInteger(length) ? length : 0;
  }

  return {
    async getManifest(repo, reference, call) {
      const action = `GET manifest ${repo.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
      const ctx = { registry: repo.registry, action };
      const deadline = call?.deadline ?? Date.now() + timeoutMs;
      const res = await exchange(
        { repo, method: 'GET', url: `/v2/${repo.repository}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT }, action },
        { ...call, deadline },
      );
      if (res.statusCode !== 200) throw await unexpected(res, ctx);
      const declared = Number(header(res, 'content-length'));
      if (declared > MAX_MANIFEST_BYTES) {
        res.body.destroy();
        throw swarmError('SWARM_ERR_ARTIFACT_INVALID', `${repo.registry}: ${action}: the manifest is ${declared} bytes, over the ${MAX_MANIFEST_BYTES}-byte cap of a manifest swarm reads; it is not a swarm release`, ctx);
      }
      const bytes = await readCapped(res, MAX_MANIFEST_BYTES, () =>
        swarmError('SWARM_ERR_ARTIFACT_INVALID', `${repo.registry}: ${action}: the manifest is over the ${MAX_MANIFEST_BYTES}-byte cap of a manifest swarm reads; it is not a swarm release`, ctx),
        ctx,
        { signal: call?.signal, deadline },
      );
      const digest = sha256(bytes);
      if (reference.startsWith('sha256:') && digest !== reference) {
        throw swarmError('SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', `${repo.registry}: ${action}: the manifest's bytes hash to ${digest}, not the digest asked for; nothing of it is used`, { ...ctx, expected: reference, actual: digest });
      }
      return { bytes, digest, mediaType: (header(res, 'content-type') ?? '').split(';')[0]!.trim() };
    },

    async putManifest(repo, reference, manifest, call) {
      const action = `PUT manifest ${repo.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
      const res = await exchange(
        {
          repo,
          method: 'PUT',
          url: `/v2/${repo.repository}/manifests/${reference}`,
          headers: { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length) },
          body: () => manifest.bytes,
          push: true,
          action,
        },
        call,
      );
      if (res.statusCode !== 201) throw await unexpected(res, { registry: repo.registry, action });
      await discard(res);
      const digest = sha256(manifest.bytes);
      const stored = header(res, 'docker-content-digest');
      if (stored && stored !== digest) {
        throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', { registry: repo.registry, action }, `it stored the manifest as ${stored}, but its bytes are ${digest}`);
      }
      return digest;
    },

    blobSize,

    async getBlob(repo, digest, call) {
      const action = `GET blob ${repo.repository}@${digest}`;
      const ctx = { registry: repo.registry, action };
      const deadline = call.deadline ?? Date.now() + timeoutMs;
      const res = await exchange({ repo, method: 'GET', url: blobPath(repo, digest), action }, { ...call, deadline });
      if (res.statusCode !== 200) throw await unexpected(res, ctx);
      const tooLarge = (seen: string) =>
        swarmError('SWARM_ERR_ARTIFACT_TOO_LARGE', `${repo.registry}: ${action}: the blob is ${seen}, over the cap of ${call.maxBytes} bytes; stopped there`, { ...ctx, maxBytes: call.maxBytes });
      const declared = Number(header(res, 'content-length'));
      if (declared > call.maxBytes) {
        res.body.destroy();
        throw tooLarge(`${declared} bytes`);
      }
      return verifiedStream(res, { digest, maxBytes: call.maxBytes, tooLarge, ctx, signal: call.signal, deadline });
    },

    async pushBlob(repo, digest, source, call) {
      if ((await blobSize(repo, digest, call)) !== null) return { pushed: false };
      const ctx = { registry: repo.registry, action: `upload blob ${repo.repository}@${digest}` };
      const next = (res: HttpResponse, base: URL | string): URL => {
        const location = header(res, 'location');
        if (!location) throw registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `it answered ${res.statusCode} without the upload's Location`);
        return new URL(location, typeof base === 'string' ? originOf(repo.registry) + base : base);
      };
      const step = async (x: Omit<Exchange, 'repo' | 'push' | 'action'>, expect: number): Promise<HttpResponse> => {
        const res = await exchange({ ...x, repo, push: true, action: ctx.action }, call);
        if (res.statusCode !== expect) throw await unexpected(res, ctx);
        await discard(res);
        return res;
      };
      const begin = `/v2/${repo.repository}/blobs/uploads/`;
      let location = next(await step({ method: 'POST', url: begin, headers: { 'content-length': '0' } }, 202), begin);
      if (source.size > chunkBytes) {
        for (let start = 0; start < source.size; start += chunkBytes) {
          const end = Math.min(source.size, start + chunkBytes) - 1;
          const res = await step(
            {
              method: 'PATCH',
              url: location,
              headers: {
                'content-type': 'application/octet-stream',
                'content-length': String(end - start + 1),
                'content-range': `${start}-${end}`,
              },
              body: () => source.open({ start, end }),
            },
            202,
          );
          location = next(res, location);
        }
      }
      const finish = new URL(location);
      finish.searchParams.set('digest', digest);
      const whole = source.size <= chunkBytes;
      await step(
        {
          method: 'PUT',
          url: finish,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(whole ? source.size : 0) },
          ...(whole ? { body: () => source.open() } : {}),
        },
        201,
      );
      return { pushed: true };
    },

    async close() {
      await agent.close();
    },
  };
}

/** The body streamed through a counter and a hash: capped, and checked against `digest` at its end. */
function verifiedStream(
  res: HttpResponse,
  o: { digest: string; maxBytes: number; tooLarge: (seen: string) => Error; ctx: FailureContext; signal: AbortSignal | undefined; deadline: number },
): Readable {
  const hash = createHash('sha256');
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > o.maxBytes) return done(o.tooLarge(`more than ${o.maxBytes} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== o.digest) {
        return done(
          swarmError('SWARM_ERR_ARTIFACT_DIGEST_MISMATCH', `${o.ctx.registry}: ${o.ctx.action}: the blob's bytes hash to ${actual}, not its digest; nothing of it is used`, { ...o.ctx, expected: o.digest, actual }),
        );
      }
      done();
    },
  });
  res.body.on('error', (err) => out.destroy(bodyFailure(err, o.ctx, o.signal, o.deadline)));
  // The deadline's own timer: the request's abort signal is not referenced once the answer
  // has come, and a signal nothing references may be collected before it fires.
  const timer = setTimeout(() => out.destroy(pastDeadline(o.ctx)), Math.max(0, o.deadline - Date.now()));
  out.on('close', () => {
    clearTimeout(timer);
    res.body.destroy();
  });
  res.body.pipe(out);
  return out;
}

function pastDeadline(ctx: FailureContext): Error {
  return registryFailure('SWARM_ERR_REGISTRY_UNREACHABLE', ctx, 'it was still sending at the deadline (--registry-timeout); nothing of it is used');
}

function classify(err: Error): Error {
  // Connection-level failures are retried; a TLS verification failure or an abort by the caller is not.
  const retry = isSwarmError(err) && err.code === 'SWARM_ERR_REGISTRY_UNREACHABLE' && err.details.retryable === true;
  return retry ? new Retryable(err) : err;
}

function deadlinePassed(ctx: FailureContext, attempts: number, last: Error | null): Error {
  return registryFailure(
    'SWARM_ERR_REGISTRY_UNREACHABLE',
    { ...ctx, attempts },
    `${last ? `${last.message.replace(/^[^:]+: [^:]+: /, '')}; ` : ''}gave up after ${attempts} attempt(s), at the deadline (--registry-timeout)`,
  );
}

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random() / 2));
}

function retryAfterMs(value: string | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // The connection goes; the answer was read.
  }
}

async function readCapped(
  res: HttpResponse,
  limit: number,
  over: () => Error,
  ctx: FailureContext,
  call: { signal?: AbortSignal | undefined; deadline?: number } = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // As in verifiedStream: a timer of its own bounds the body by the deadline.
  const timer =
    call.deadline === undefined ? undefined : setTimeout(() => res.body.destroy(pastDeadline(ctx)), Math.max(0, call.deadline - Date.now()));
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        res.body.destroy();
        throw over();
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (isSwarmError(err)) throw err;
    throw bodyFailure(err, ctx, call.signal, call.deadline ?? Infinity);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** A body that broke off: at the deadline (a registry that trickles), or on the connection. */
function bodyFailure(err: unknown, ctx: FailureContext, signal: AbortSignal | undefined, deadline: number): Error {
  if (!signal?.aborted && Date.now() >= deadline - 50) return pastDeadline(ctx);
  return transportFailure(err, ctx, signal);
}

async function readText(res: HttpResponse, limit: number, ctx: FailureContext): Promise<string> {
  // A small answer (a token, an error body) gets the longest silence of one request, in all.
  const deadline = Date.now() + SILENCE_MS;
  const bytes = await readCapped(res, limit, () => registryFailure('SWARM_ERR_REGISTRY_PROTOCOL', ctx, `an answer over ${limit} bytes`), ctx, { deadline });
  return bytes.toString('utf8');
}

function tokenOf(status: number, text: string): string | null {
  if (status !== 200) return null;
  try {
    const doc = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    return typeof token === 'string' && token !== '' ? token : null;
  } catch {
    return null;
  }
}

/** The first entry of the distribution spec's error body, `{ errors: [{ code, message }] }`. */
function registrySays(text: string): string | null {
  try {
    const first = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (!first) return null;
    return [first.code, first.message].filter((v) => typeof v === 'string' && v !== '').join(': ') || null;
  } catch {
    return null;
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
