/**
 * Hostile inputs through the real POST /update route (issue 7 §4), every case — the fast
 * subset (test/reliability/hostile-inputs.test.ts) plus the variants of each attack.
 */
import { hostileSuite } from '../helpers/hostile-suite.js';

hostileSuite('long');
