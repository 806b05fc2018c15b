import type { AgentFlags } from './args.js';

/** What the routes read: fixed at start, except `stopping`. */
export interface AgentState {
  readonly version: string;
  readonly host: string;
  readonly flags: AgentFlags;
  /** `performance.now()` when the agent started listening. */
  startedAt: number;
  /** True once a stop has begun. */
  stopping: boolean;
}

/** A JSON answer. */
export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * Who may call a route: `any` certificate of the CA (the probes of updaters and `swarm
 * status`), or only an `operator` — the master or this host's updater (see authorizePeer).
 */
export type Access = 'any' | 'operator';

/** A route of the agent. */
export interface Route {
  readonly access: Access;
  readonly handle: (state: AgentState, now: number) => Reply;
}

const health: Route = {
  access: 'any',
  handle: (state, now) => {
    const version = state.flags.reportVersion ?? state.version;
    const facts = { version, host: state.host, uptimeMs: Math.round(now - state.startedAt) };
    // While stopping, say so: a probe that reaches a draining agent must not count it healthy.
    if (state.stopping) return { status: 503, body: { status: 'stopping', ...facts } };
    if (state.flags.unhealthy) return { status: 503, body: { status: 'unhealthy', ...facts } };
    return { status: 200, body: { status: 'ok', ...facts } };
  },
};

const version: Route = {
  access: 'operator',
  handle: (state) => ({ status: 200, body: { version: state.flags.reportVersion ?? state.version } }),
};

const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['GET /health', health],
  ['GET /version', version],
]);

/** The route for a method and path; HEAD is answered as GET (Node sends no body for it). */
export function findRoute(method: string, path: string): Route | undefined {
  return ROUTES.get(`${method === 'HEAD' ? 'GET' : method} ${path}`);
}

/** The 404 for anything else. Reached only by operators: others get 403 first. */
export function notFound(method: string, path: string): Reply {
  return { status: 404, body: { code: 'SWARM_ERR_AGENT_NOT_FOUND', message: `no such endpoint: ${method} ${path}` } };
}
