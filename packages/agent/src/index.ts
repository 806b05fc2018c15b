// Running the agent: the server, and the process entry that `swarm agent` and main.ts call.
export { type StartAgentOptions, type RunningAgent } from './server.js';
export { runAgent } from './run-agent.js';

// Its command line: flags, test knobs and help.
export { AGENT_USAGE, type AgentArgs, type AgentFlags } from './args.js';

// Its environment (wiki/reference/layouts.md#release-tarball) and who may call what.
export { type AgentConfig } from './config.js';
export { type PeerDecision } from './authorize.js';

// Errors (catalogue codes written literally: the agent depends on @swarm/pki only) and logs.
export { AgentError, type AgentErrorCode } from './agent-error.js';
export { type AgentLogger, type AgentLoggerOptions, type LogLevel, type LogSink } from './log.js';
