/**
 * Random interruption (issue 7 §2), long variant: SWARM_RELIABILITY_KILLS (default 20)
 * updates of releases of SWARM_RELIABILITY_FILES files (default 3000) killed with SIGKILL at
 * seeded random moments (SWARM_RELIABILITY_SEED), each followed by a restart, every
 * invariant, and a successful update.
 */
import { randomKillSuite } from '../helpers/random-kills.js';
import { intParam } from '../helpers/prng.js';

randomKillSuite({
  variant: 'long',
  iterations: intParam('SWARM_RELIABILITY_KILLS', 20),
  files: intParam('SWARM_RELIABILITY_FILES', 3000),
  seed: intParam('SWARM_RELIABILITY_SEED', 20261122),
});
