/**
 * Random interruption (issue 7 §2), fast subset: two updates of a small release killed at
 * seeded random moments. The long variant (test/reliability/long/random-interruption.test.ts)
 * kills SWARM_RELIABILITY_KILLS updates of a multi-thousand-file release.
 */
import { randomKillSuite } from './helpers/random-kills.js';
import { intParam } from './helpers/prng.js';

randomKillSuite({
  variant: 'fast',
  iterations: 2,
  files: 0,
  seed: intParam('SWARM_RELIABILITY_SEED', 20261122),
});
