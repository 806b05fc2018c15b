// `swarm updater` for the benchmark until the CLI has that command: the same flags (from
// @swarm/updater's updaterConfigKeys), the same runUpdater, run from the built dist/ exactly as
// the CLI would. Exits when its parent (the harness) goes away.
import { isSwarmError } from '@swarm/errors';
import { CONFIG_FILE_OPTION, parseUpdaterConfig, runUpdater, updaterConfigKeys } from '@swarm/updater';

const flags = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const flag = argv[i];
  if (flag === CONFIG_FILE_OPTION.flag) flags.config = argv[i + 1];
  else {
    const key = updaterConfigKeys.find((k) => k.flag === flag);
    if (!key) throw new Error(`unknown flag ${flag}`);
    flags[key.key] = argv[i + 1];
  }
}

const stop = new AbortController();
process.on('disconnect', () => stop.abort());
try {
  await runUpdater(parseUpdaterConfig({ flags, env: process.env }), { signal: stop.signal });
  // A 'disconnect' listener keeps the IPC channel, and so the process, alive: let go.
  process.disconnect?.();
} catch (err) {
  process.disconnect?.();
  const body = isSwarmError(err) ? { code: err.code, message: err.message, ...err.details } : { message: String(err) };
  process.stderr.write(`${JSON.stringify(body)}\n`);
  process.exitCode = isSwarmError(err) ? err.exitCode : 1;
}
