/** The environment variable that arms a fault point (tests only). */
export const FAULT_ENV = 'SWARM_TEST_KILL_AT';

/**
 * A named point in the lifecycle (`before:extract`, `after:activate`, `during:install`, …)
 * where the reliability tests kill the updater to prove crash recovery. Inert unless
 * SWARM_TEST_KILL_AT equals `name`; then the process SIGKILLs itself on the spot — no
 * cleanup, no flush, exactly what a crash or `kill -9` does.
 */
export function faultPoint(name: string): void {
  if (process.env[FAULT_ENV] === name) process.kill(process.pid, 'SIGKILL');
}
