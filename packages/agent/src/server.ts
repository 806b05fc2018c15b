import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { AgentError } from './agent-error.js';
import { DEFAULT_LISTEN_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS, parseListenHost, type AgentFlags } from './args.js';
import { authorizePeer } from './authorize.js';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { createAgentLogger, logLevelFromEnv, type AgentLogger } from './log.js';
import { findRoute, notFound, type AgentState, type Reply } from './routes.js';

/** Options of {@link startAgent}. */
export interface StartAgentOptions {
  /**
   * The environment the updater gives a release (wiki/reference/layouts.md#release-tarball): `SWARM_CA`, `SWARM_CERT`,
   * `SWARM_KEY` (paths, relative to the working directory), `SWARM_AGENT_PORT` (default
   * 8765; 0 picks a free port), `SWARM_HOST`, `SWARM_RELEASE_VERSION`, `SWARM_LOG_LEVEL`.
   */
  readonly env: NodeJS.ProcessEnv;
  /** Host (address) to listen on; default `0.0.0.0`. The port is always from the env. */
  readonly listen?: string;
  /** Test and demo knobs that change the answers (`--unhealthy`, `--report-version`). */
  readonly flags?: AgentFlags;
  /** How long {@link RunningAgent.close} lets requests in flight finish; default 3000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Where the JSON log lines go; default a logger on stderr at `SWARM_LOG_LEVEL`. */
  readonly logger?: AgentLogger;
}

/** A listening agent. */
export interface RunningAgent {
  /** The port it listens on (the real one when SWARM_AGENT_PORT is 0). */
  readonly port: number;
  /**
   * Stop gracefully: refuse new connections, let requests in flight finish for up to
   * `timeoutMs` (default: the agent's shutdownTimeoutMs), then cut whatever remains.
   * Calling it again during a stop shortens the wait (`{ timeoutMs: 0 }` cuts at once).
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * A request body is never expected; whatever arrives is read and dropped, up to this cap,
 * before the answer goes out — answering first and closing could reset the connection
 * under the client and lose the answer.
 */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Start the reference agent: an HTTPS server with mutual TLS on `SWARM_AGENT_PORT`. The
 * TLS layer refuses peers without a certificate of the CA before any route runs; `GET
 * /health` then answers any of them, every other route only the master or this host's
 * updater. Throws AgentError SWARM_ERR_CONFIG_INVALID or SWARM_ERR_AGENT_LISTEN_FAILED.
 */
export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { env } = options;
  const logger =
    options.logger ?? createAgentLogger({ level: logLevelFromEnv(env), bindings: env.SWARM_HOST ? { host: env.SWARM_HOST } : {} });
  const listenHost = parseListenHost(options.listen ?? DEFAULT_LISTEN_HOST);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const config = await loadAgentConfig(env);
  if (config.keyModeWarning) logger.warn(config.keyModeWarning, { event: 'key-mode' });

  const state: AgentState = {
    version: config.version,
    host: config.host,
    flags: options.flags ?? {},
    startedAt: performance.now(),
    stopping: false,
  };
  const server = createTlsServer(config);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => handleRequest(req, res, config, state, logger));
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // A peer without a certificate of our CA, or not speaking TLS: refused before any route.
    logger.warn('TLS handshake refused', { event: 'tls-refused', reason: err.code ?? err.message, remote: socket.remoteAddress ?? null });
  });

  // Every TCP connection, including those still in the TLS handshake, so a stop can cut them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const port = await listen(server, listenHost, config.port);
  state.startedAt = performance.now();
  server.on('error', (err) => logger.error(`server error: ${err.message}`, { event: 'server-error' }));
  logger.info(`listening on https://${formatHost(listenHost)}:${port}`, {
    event: 'listening',
    port,
    listen: listenHost,
    version: state.flags.reportVersion ?? state.version,
    identity: config.identity.uri,
    fingerprint: config.fingerprint,
    ...(state.flags.unhealthy ? { unhealthy: true } : {}),
  });

  let stopped: Promise<void> | undefined;
  const cutTimers = new Set<NodeJS.Timeout>();
  const cut = (): void => {
    if (sockets.size > 0)
      logger.warn(`cutting ${sockets.size} connection(s) still open`, { event: 'connections-cut', count: sockets.size });
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    close({ timeoutMs = shutdownTimeoutMs } = {}) {
      if (!stopped) {
        state.stopping = true;
        stopped = new Promise<void>((resolve) => {
          // close() stops accepting and, since Node 19, also closes idle keep-alive connections;
          // its callback runs once the last connection has ended.
          server.close(() => {
            for (const timer of cutTimers) clearTimeout(timer);
            resolve();
          });
        });
      }
      if (timeoutMs <= 0) cut();
      else cutTimers.add(setTimeout(cut, timeoutMs));
      return stopped;
    },
  };
}

function createTlsServer(config: AgentConfig): Server {
  try {
    return createServer({
      ca: config.caPem,
      cert: config.certPem,
      key: config.keyPem,
      // Mutual TLS: no certificate of the CA, no connection (wiki/reference/updater-api.md#transport-and-identity). Never relaxed.
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // Bounds so half-open or slow peers cannot hold a stop (or the port) for minutes.
      handshakeTimeout: 10_000,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
    });
  } catch (cause) {
    throw new AgentError(
      'SWARM_ERR_CONFIG_INVALID',
      `the agent cannot start: SWARM_CA, SWARM_CERT and SWARM_KEY do not form a usable TLS identity (${(cause as Error).message})`,
      { cause },
    );
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new AgentError('SWARM_ERR_AGENT_LISTEN_FAILED', `cannot listen on ${formatHost(host)}:${port}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function handleRequest(req: IncomingMessage, res: ServerResponse, config: AgentConfig, state: AgentState, logger: AgentLogger): void {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const path = pathOf(req.url);
  const route = findRoute(method, path);
  const decision = authorizePeer((req.socket as TLSSocket).getPeerCertificate(), config.identity);
  const peer = decision.identity?.uri ?? null;
  res.once('finish', () => {
    const fields = { event: 'request', method, path, status: res.statusCode, peer, durationMs: Math.round(performance.now() - started) };
    // Probes hit /health many times a second during an update; keep their successes at debug.
    if (res.statusCode === 200 && route?.access === 'any') logger.debug('request', fields);
    else if (res.statusCode === 403) logger.warn('request refused', { ...fields, reason: decision.allowed ? null : decision.reason });
    else logger.info('request', fields);
  });

  // Authorize before reading anything: an unauthorized peer cannot make us spool a body.
  if ((route === undefined || route.access === 'operator') && !decision.allowed) {
    send(res, { status: 403, body: { code: 'SWARM_ERR_AUTH_FORBIDDEN', message: decision.reason } }, true);
    return;
  }
  void discardBody(req).then((complete) => {
    if (!complete) {
      logger.warn('request body too large or aborted; connection closed', { event: 'request-dropped', method, path, peer });
      req.socket.destroy();
      return;
    }
    send(res, route ? route.handle(state, performance.now()) : notFound(method, path), state.stopping);
  });
}

function send(res: ServerResponse, reply: Reply, close: boolean): void {
  const payload = JSON.stringify(reply.body);
  res.statusCode = reply.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.setHeader('cache-control', 'no-store');
  // While stopping, each answer closes its connection so the drain can finish.
  if (close) res.setHeader('connection', 'close');
  res.end(payload);
}

/** Read and drop the request body; false when it exceeds the cap or the peer goes away. */
function discardBody(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    let settled = false;
    const settle = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(complete);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) settle(false);
    };
    req.on('data', onData);
    req.once('end', () => settle(true));
    req.once('close', () => settle(req.complete));
    req.once('error', () => settle(false));
  });
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'https://agent.invalid').pathname;
  } catch {
    return url ?? '/';
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
