// The supervisor: the updater's bootloader, the one part a self-update never replaces.
export { runSupervisor, type SupervisorOptions } from './supervisor.js';

// The self directory: layout, journal, atomic `current` flips.
export {
  selfDirPaths,
  readSelfState,
  writeSelfState,
  currentReleaseId,
  flipCurrent,
  type SelfDirPaths,
  type SelfState,
  type SelfUpdateRecord,
} from './self-dir.js';

// The protocol between the running updater and its supervisor.
export { isSelfUpdateRequest, type SelfUpdateRequest } from './updater-process.js';
export { waitForVersion, fetchVersion, type HealthEndpoint } from './health-check.js';
