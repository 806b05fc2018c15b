/**
 * Ctrl-C during a rollout: the first SIGINT stops starting new hosts (in-flight hosts
 * finish, the rest are reported `skipped`); the second also aborts the calls in flight.
 * Listeners are removed when the rollout ends.
 */
export function rolloutInterrupts(note: (line: string) => void): {
  stop: AbortSignal;
  abort: AbortSignal;
  dispose(): void;
} {
  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      note('interrupted: no new host will be started; waiting for the hosts in flight (Ctrl-C again to abort them)');
      stop.abort();
    } else {
      note('aborting the hosts in flight; each updater still finishes or rolls back by itself');
      abort.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    abort: abort.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
