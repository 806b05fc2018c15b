// The packages' own test helpers, reused as they are — the updater's harness, clients,
// releases and process entry, the bundle's byte-level tar builder — from one place that holds
// the relative paths, so the suite's files import them from here.
export * from '../../../packages/updater/test/helpers/harness.js';
export { call, type Answer } from '../../../packages/updater/test/helpers/https-client.js';
export { multipart, type Part } from '../../../packages/updater/test/helpers/multipart.js';
export { openRequest, type OpenRequest } from '../../../packages/updater/test/helpers/open-request.js';
export { createPkiFixture, type PkiFixture } from '../../../packages/updater/test/helpers/pki-fixture.js';
export { buildRelease, type ReleaseOptions } from '../../../packages/updater/test/helpers/releases.js';
export { spawnUpdater, type UpdaterProcess } from '../../../packages/updater/test/helpers/updater-process.js';
export {
  gnuLong,
  header,
  manifestEntry,
  pax,
  tar,
  tgz,
  type RawEntry,
} from '../../../packages/bundle/test/helpers/raw-tar.js';
