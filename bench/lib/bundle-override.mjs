// `node --import bench/lib/bundle-override.mjs …` with BENCH_BUNDLE_URL set: every import of
// @swarm/bundle in that process resolves to another build of it (an earlier commit's, built by
// `--bundle-before REV`), so a change to the bundle is measured against its predecessor in the
// same run, interleaved, on the same machine state.
import { register } from 'node:module';

if (process.env.BENCH_BUNDLE_URL) {
  register('./bundle-override-hooks.mjs', import.meta.url, { data: { url: process.env.BENCH_BUNDLE_URL } });
}
