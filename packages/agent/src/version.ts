/**
 * The agent package's own version, reported when no `SWARM_RELEASE_VERSION` is set. A
 * constant rather than a read of package.json because the bundled `agent.mjs` runs with no
 * package.json beside it; a test keeps it equal to packages/agent/package.json.
 */
export const AGENT_VERSION = '0.1.0';
