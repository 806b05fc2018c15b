/** The outcome of one health check. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it is unhealthy (or what it answered), for the 409 body and the logs. */
  readonly detail: string;
}

/** One health check, bounded by `timeoutMs` and `signal`. */
export type HealthCheck = (timeoutMs: number, signal: AbortSignal) => Promise<CheckResult>;

/** The longest a single check may take, whatever the probe's deadline. */
export const CHECK_TIMEOUT_MS = 2_000;

/** Replace `${SWARM_AGENT_PORT}` in a health URL or address (wiki/reference/layouts.md#release-tarball). */
export function substitutePort(text: string, agentPort: number): string {
  return text.replaceAll('${SWARM_AGENT_PORT}', String(agentPort));
}
