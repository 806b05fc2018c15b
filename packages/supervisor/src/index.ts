// The supervisor: the updater's bootloader, the one part a self-update never replaces.
export { runSupervisor, type SupervisorOptions } from './supervisor.js';

// The self directory's active release, and seeding an empty one (the journal is the supervisor's alone).
export { activeSelfRelease, seedSelfRelease } from './self-dir.js';

// Fault points (tests only): SWARM_TEST_KILL_AT=<point> makes the supervisor SIGKILL itself there.
export { FAULT_ENV, SUPERVISOR_FAULT_POINTS, type SupervisorFaultPoint } from './fault-point.js';
