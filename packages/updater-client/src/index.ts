// The client: one pinned mTLS dispatcher per master identity, the updater API's calls.
export {
  createUpdaterClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STATUS_TIMEOUT_MS,
  type UpdaterClient,
  type UpdaterClientOptions,
  type CallOptions,
  type HealthOptions,
  type UploadOptions,
} from './updater-client.js';

// Who is talking to whom: the master identity and the updaters it targets.
export { originOf, type MasterIdentity, type UpdaterTarget, type TargetDetails } from './target.js';

// Uploads and retries: what a push sends and when it is sent again.
export { TARBALL_FILENAME, type UploadSource } from './multipart-upload.js';
export { DEFAULT_RETRY, RETRYABLE_STATUSES, parseRetryAfter, retryDelay, type RetryOptions } from './retry-policy.js';
