// Running the agent: the server, and the process entry that `swarm agent` and main.ts call.
export { startAgent, type StartAgentOptions, type RunningAgent } from './server.js';
export { runAgent } from './run-agent.js';

// Its command line: flags, test knobs and help.
export { parseAgentArgs, AGENT_USAGE, DEFAULT_LISTEN_HOST, DEFAULT_SHUTDOWN_TIMEOUT_MS, type AgentArgs, type AgentFlags } from './args.js';

// Its environment (wiki/reference/layouts.md#release-tarball) and who may call what.
export { loadAgentConfig, DEFAULT_AGENT_PORT, type AgentConfig } from './config.js';
export { authorizePeer, type PeerDecision } from './authorize.js';

// Errors (catalogue codes written literally: the agent depends on @swarm/pki only) and logs.
export { AgentError, type AgentErrorCode } from './agent-error.js';
export { createAgentLogger, LOG_LEVELS, type AgentLogger, type AgentLoggerOptions, type LogLevel, type LogSink } from './log.js';
export { AGENT_VERSION } from './version.js';
