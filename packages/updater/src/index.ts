// Configuration: every setting declared once (the CLI builds `swarm updater` flags and --help from it).
export {
  updaterConfigKeys,
  CONFIG_FILE_OPTION,
  type UpdaterConfig,
  type ConfigKey,
  type ConfigValueType,
  type ListenAddress,
} from './config/config-keys.js';
export { parseUpdaterConfig, parseListen, type ParseUpdaterConfigInput } from './config/parse-config.js';

// Running the daemon: build the app (never listens), start it (TLS, listen, shutdown), run it (signals).
export { buildUpdater, type BuildUpdaterOptions } from './server/build-updater.js';
export { startUpdater, type StartUpdaterOptions, type RunningUpdater } from './server/start-updater.js';
export { runUpdater, type RunUpdaterOptions } from './server/run-updater.js';
export { tlsIdentity, type IdentitySource } from './server/identity-plugin.js';
export { PROTOCOL_VERSION } from './routes/health-route.js';
export { updaterVersion } from './version.js';

// The lifecycle: daemon, journal, plan, runner, install-directory layout.
export {
  UpdaterDaemon,
  type UpdaterDaemonOptions,
  type ReleaseListing,
  type DaemonStatus,
} from './lifecycle/updater-daemon.js';
export {
  EMPTY_JOURNAL,
  type JournalState,
  type ReleaseRecord,
  type HistoryEntry,
  type HistoryError,
  type InFlightOperation,
  type OperationKind,
  type OperationOutcome,
} from './lifecycle/journal.js';
export type { OperationResult } from './lifecycle/lifecycle-context.js';
export type { RolledBackState } from './lifecycle/agent-steps.js';
export { UPDATE_STEPS, ROLLBACK_STEPS, type StepName } from './lifecycle/plan.js';
export { RETRY_AFTER_SECONDS, type OperationInfo } from './lifecycle/runner.js';
export { installLayout, type InstallLayout } from './lifecycle/install-layout.js';
export { FAULT_ENV, faultPoint } from './lifecycle/fault-point.js';

// The lock on an install directory.
export { acquireInstallLock, LOCK_FILE, type InstallLock, type LockOwner } from './lock/install-lock.js';

// Agent processes.
export { agentEnv, type AgentEnvInput } from './agent/agent-env.js';
export type { AgentStatus } from './agent/agent-process.js';

// Self-update: staging an updater release and the flags a supervisor hands its updater.
export { parseUpdaterArgv, updaterArgv } from './self/updater-argv.js';
export { stageSelfRelease, type StageSelfOptions } from './self/stage-self-release.js';
export { SELF_SWITCH_WAIT_MS } from './lifecycle/updater-daemon.js';
