// The master home (wiki/reference/layouts.md): where it is, creating it, opening it.
export { resolveHome, type ResolveHomeOptions } from './home/resolve-home.js';
export { homePaths, type HomePaths } from './home/home-paths.js';
export { initHome, type InitHomeOptions, type InitHomeResult } from './home/init-home.js';
export { openHome, type MasterHome, type MasterIdentity, type OpenHomeOptions } from './home/open-home.js';
export { type HomeRef } from './home/with-home.js';

// Enrollment: issuing a host's certificates, recording its pins, handing out its bundle.
export {
  enrollHost,
  DEFAULT_AGENT_PORT,
  DEFAULT_UPDATER_PORT,
  type EnrollHostOptions,
  type EnrollResult,
} from './enroll/enroll-host.js';
export { decommissionHost, type DecommissionHostOptions, type DecommissionResult } from './enroll/decommission-host.js';

// Rollouts: canary-first scheduling within a failure budget, per-host steps, dry-run plans, history.
export { type ScheduleOptions, type TurnResult, type NotStarted } from './rollout/schedule.js';
export {
  isFailure,
  type Outcome,
  type HostResult,
  type HostPhase,
  type RolloutEvent,
  type ReleaseRef,
} from './rollout/outcome.js';
export {
  updateHost,
  rollbackHost,
  activateHost,
  type HostContext,
  type PackedRelease,
  type UpdateHostOptions,
} from './rollout/host-steps.js';
export {
  runRollout,
  targetOf,
  DEFAULT_POLICY,
  type RolloutOptions,
  type RolloutPolicy,
  type RolloutRelease,
  type RolloutResult,
} from './rollout/rollout.js';
export { DEFAULT_GATE_RETRY_MS, DEFAULT_GATE_TIMEOUT_MS, type HostGates } from './rollout/host-gates.js';
export { parseWindow, type MaintenanceWindow } from './rollout/maintenance-window.js';
export { planRollout, type PlannedHost, type RolloutPlan } from './rollout/plan.js';
export { prepareRelease, type ReleaseSource, type PreparedRelease } from './rollout/release-source.js';

// Registry artifacts: publishing a release to an OCI registry, resolving one to pull.
export { openRegistryClient, type RegistryAccess } from './artifact/registry-access.js';
export { publishRelease, type PublishOptions, type PublishResult } from './artifact/publish-release.js';
export { resolveArtifact, type PulledRelease } from './artifact/resolve-artifact.js';
