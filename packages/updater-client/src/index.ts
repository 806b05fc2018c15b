// The client: one pinned mTLS dispatcher per master identity, the updater API's calls.
export {
  createUpdaterClient,
  type UpdaterClient,
  type ArtifactRef,
  type UpdaterClientOptions,
  type CallOptions,
  type HealthOptions,
  type UploadOptions,
} from './updater-client.js';

// Who is talking to whom: the master identity and the updaters it targets.
export { type MasterIdentity, type UpdaterTarget, type TargetDetails } from './target.js';

// Uploads and retries: what a push sends and when it is sent again.
export { type UploadSource } from './multipart-upload.js';
export { type RetryOptions } from './retry-policy.js';
