// What other packages use of the updater (the CLI's `swarm updater`, the test suites and the
// benchmarks); everything else is the updater's own.

// Configuration: every setting declared once (the CLI builds `swarm updater` flags and --help from it).
export { updaterConfigKeys, CONFIG_FILE_OPTION, type UpdaterConfig, type ConfigKey } from './config/config-keys.js';
export { parseUpdaterConfig, type ParseUpdaterConfigInput } from './config/parse-config.js';

// Running the daemon: start it (TLS, listen, shutdown), run it (signals).
export { startUpdater, type StartUpdaterOptions, type RunningUpdater } from './server/start-updater.js';
export { runUpdater, type RunUpdaterOptions } from './server/run-updater.js';

// The journal of an install directory, read without the daemon (`swarm updater state`).
export { readInstallState } from './journal/read-install-state.js';
export type { JournalState, HistoryEntry, InFlightOperation } from './journal/journal.js';

// Fault points and the steps they name (tests only: SWARM_TEST_KILL_AT=<point>).
export { FAULT_ENV } from './operations/fault-point.js';
export { UPDATE_STEPS, ROLLBACK_STEPS, STAGE_STEPS, ACTIVATE_STEPS } from './operations/plan.js';

// Self-update: the flags a supervisor hands its updater, and staging an updater release.
export { updaterArgv } from './self/updater-argv.js';
export { stageSelfRelease, type StageSelfOptions } from './self/stage-self-release.js';
