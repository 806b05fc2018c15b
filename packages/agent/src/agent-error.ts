/**
 * The catalogue codes the agent raises. They are written out here rather than built with
 * `swarmError` because the agent ships inside a release and depends on `@swarm/pki` only;
 * each code is declared in `packages/errors/src/catalogue.ts` and documented in
 * `wiki/errors.md`, so a CLI can revive it by code.
 */
export type AgentErrorCode =
  'SWARM_ERR_USAGE_INVALID' | 'SWARM_ERR_CONFIG_INVALID' | 'SWARM_ERR_AGENT_LISTEN_FAILED' | 'SWARM_ERR_AGENT_FAULT_INJECTED';

// Exit codes as in the catalogue: 2 for usage and configuration, 1 otherwise.
const EXIT_CODES: Record<AgentErrorCode, 1 | 2> = {
  SWARM_ERR_USAGE_INVALID: 2,
  SWARM_ERR_CONFIG_INVALID: 2,
  SWARM_ERR_AGENT_LISTEN_FAILED: 1,
  SWARM_ERR_AGENT_FAULT_INJECTED: 1,
};

/** An error the agent ends with: a catalogue `code`, the process `exitCode`, the problems found. */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly exitCode: 1 | 2;
  /** Every problem found, when there were several (configuration is checked all at once). */
  readonly problems: readonly string[];

  constructor(code: AgentErrorCode, message: string, options: { problems?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.exitCode = EXIT_CODES[code];
    this.problems = options.problems ?? [message];
  }
}
