// The supervisor: the updater's bootloader, the one part a self-update never replaces.
export { runSupervisor, type SupervisorOptions } from './supervisor.js';

// The self directory: its layout and journal, and seeding an empty one.
export {
  selfDirPaths,
  readSelfState,
  activeSelfRelease,
  seedSelfRelease,
  type SelfDirPaths,
  type SelfState,
  type SelfUpdateRecord,
} from './self-dir.js';

// The protocol between the running updater and its supervisor.
export {
  isSelfUpdateRequest,
  isStartFailureReport,
  type SelfUpdateRequest,
  type StartFailureReport,
} from './updater-process.js';
export { waitForVersion, fetchVersion, type HealthEndpoint } from './health-check.js';

// The updater processes of a self directory, whoever started them (orphans of a dead supervisor).
export { findUpdaterProcesses, stopOrphanedUpdaters } from './orphaned-updaters.js';

// Fault points (tests only): SWARM_TEST_KILL_AT=<point> makes the supervisor SIGKILL itself there.
export { FAULT_ENV, SUPERVISOR_FAULT_POINTS, faultPoint, type SupervisorFaultPoint } from './fault-point.js';
