export {
  buildTlsDialer,
  createHttpAgent,
  type Connector,
  type ConnectorCallback,
  type ConnectorOptions,
  type HttpAgent,
  type HttpAgentOptions,
  type HttpResponse,
  type TlsDialOptions,
} from './http-agent.js';
export { DROPPED_CODES, SILENCE_CODES, UNREACHABLE_CODES, errorCode } from './connection-errors.js';
