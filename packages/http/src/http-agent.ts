import { Agent, buildConnector, type Dispatcher } from 'undici';

/**
 * The HTTP transport of swarm's clients (the updater client, the OCI registry client): one
 * undici dispatcher per client. This package is where undici is owned; the clients see only
 * these names.
 */
export type HttpAgent = Dispatcher;

/** What {@link HttpAgent.request} answers: status, headers and a streamed body. */
export type HttpResponse = Dispatcher.ResponseData;

/** A connector: dials one origin and hands undici the connected socket. */
export type Connector = buildConnector.connector;

/** What undici asks a {@link Connector} to dial. */
export type ConnectorOptions = buildConnector.Options;

/** How a {@link Connector} answers undici. */
export type ConnectorCallback = buildConnector.Callback;

/** TLS options of undici's own connector (CA, client certificate, timeout, session cache). */
export type TlsDialOptions = buildConnector.BuildOptions;

/** Options of {@link createHttpAgent}. */
export interface HttpAgentOptions {
  /** A connector of the caller's own (a pinning one), or TLS options for undici's. */
  readonly connect?: Connector | TlsDialOptions;
  /** Requests pipelined per connection; 0 turns keep-alive off (a connection per request). */
  readonly pipelining?: number;
}

/** An undici agent with the given connector. */
export function createHttpAgent(options: HttpAgentOptions = {}): HttpAgent {
  return new Agent({
    ...(options.connect ? { connect: options.connect } : {}),
    ...(options.pipelining !== undefined ? { pipelining: options.pipelining } : {}),
  });
}

/** undici's TLS connector with these options, to wrap in a connector of one's own. */
export function buildTlsDialer(options: TlsDialOptions): Connector {
  return buildConnector(options);
}
