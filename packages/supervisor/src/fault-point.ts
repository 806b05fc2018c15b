/**
 * The environment variable that arms a fault point (tests only). It is the updater's too
 * (packages/updater/src/operations/fault-point.ts): the supervisor hands its environment to
 * the updater, and the two sets of names never overlap (the supervisor's start with
 * `supervisor:`), so one variable arms exactly one point in one of the two processes. The
 * supervisor keeps its own copy of these few lines: it is the bootloader and must not load
 * the updater (fastify and all) to share them.
 */
export const FAULT_ENV = 'SWARM_TEST_KILL_AT';

/**
 * Every fault point of the supervisor, in the order a self-update reaches them. Each durable
 * change of the self directory — the `switching` journal entry, the flip of `current`, the
 * record of the outcome, the prune — and each change of which updater runs has a point right
 * before and right after it (one point serves as the `after` of a step and the `before` of
 * the next when nothing happens between them).
 */
export const SUPERVISOR_FAULT_POINTS = [
  // The switch: the running updater staged a release and asked for it.
  'supervisor:before:journal-switch',
  'supervisor:after:journal-switch',
  'supervisor:after:stop-old',
  'supervisor:after:flip',
  'supervisor:after:start-new',
  'supervisor:before:record',
  'supervisor:after:record',
  'supervisor:after:prune',
  // The fallback: the new updater did not answer /health with its version in time.
  'supervisor:before:stop-new',
  'supervisor:before:fallback-flip',
  'supervisor:after:fallback-flip',
  'supervisor:after:fallback-record',
  'supervisor:after:start-prev',
  // Recovery at start, after a supervisor died mid-switch.
  'supervisor:after:recover-flip',
] as const;

/** The name of one of the supervisor's fault points. */
export type SupervisorFaultPoint = (typeof SUPERVISOR_FAULT_POINTS)[number];

/**
 * A point where the reliability tests kill the supervisor to prove that a self-update never
 * strands a host (wiki/reference/guarantees.md#self-update-never-strands-a-host). Inert unless SWARM_TEST_KILL_AT names it; then the process
 * SIGKILLs itself on the spot — no cleanup, no flush, no goodbye to its updater: exactly what
 * a crash or `kill -9` does.
 */
export function faultPoint(name: SupervisorFaultPoint): void {
  if (process.env[FAULT_ENV] === name) process.kill(process.pid, 'SIGKILL');
}
