/**
 * Hostile inputs through the real POST /update route (issue 7 §4), fast subset: at least 40
 * cases, one or more per kind of attack. The cases and their checks are in
 * helpers/hostile-suite.ts; test/reliability/long/hostile-inputs-all.test.ts runs them all.
 */
import { hostileSuite } from './helpers/hostile-suite.js';

hostileSuite('fast');
