// The entry of the updater release (`swarm pack --self`): bundled into one file that runs
// with plain `node`, started by the supervisor from `<self-dir>/current` with the same
// flags as `swarm updater`. Only this entry exits the process.
import { errorBody, isSwarmError } from '@swarm/errors';
import { createLogger } from '@swarm/log';
import { parseUpdaterConfig } from './config/parse-config.js';
import { runUpdater } from './server/run-updater.js';
import { supervisorChannel } from './self/supervisor-channel.js';
import { parseUpdaterArgv } from './self/updater-argv.js';

// An updater never outlives its supervisor: when the IPC channel closes (the supervisor
// died or is restarting), shut down gracefully; the agent keeps running and the next
// updater adopts it.
const stop = new AbortController();
if (process.connected) process.once('disconnect', () => stop.abort());
// Started with a channel that closed before this code ran: the supervisor is already gone, and
// no 'disconnect' will ever come. Do not start an updater nobody supervises (the restarted
// supervisor also stops such orphans: packages/supervisor/src/orphaned-updaters.ts).
const orphaned = typeof process.send === 'function' && !process.connected;
const log = createLogger({ name: 'updater' });

try {
  if (orphaned) throw new Error('started by a supervisor that has already exited; not starting');
  const { flags, ignored } = parseUpdaterArgv(process.argv.slice(2));
  if (ignored.length > 0) {
    log.warn({ ignored }, 'ignoring options this updater does not know');
  }
  const config = parseUpdaterConfig({ flags, env: process.env });
  await runUpdater(config, { signal: stop.signal });
  if (process.connected) process.disconnect();
} catch (err) {
  const body = isSwarmError(err)
    ? { code: err.code, message: err.message, hint: err.remedy }
    : { message: String(err) };
  log.fatal(body, 'updater failed to start');
  process.exitCode = isSwarmError(err) ? err.exitCode : 1;
  // The supervisor reads this to tell a refusal (exit 2: SWARM_ERR_UPDATER_LOCKED naming the
  // owner, a bad configuration), which it must not retry, from a crash it restarts.
  await supervisorChannel()?.reportStartFailure(isSwarmError(err) ? errorBody(err) : { message: String(err) });
  if (process.connected) process.disconnect();
}
