// Release manifests: release.json, validated with every problem reported at once.
export {
  readManifest,
  releaseId,
  type ReleaseManifest,
  type HealthCheck,
  type HealthTiming,
  type UrlHealthCheck,
  type TcpHealthCheck,
  type ExecHealthCheck,
} from './manifest.js';

// Extraction: hostile archives unpacked safely in a worker thread, under limits.
export { extractRelease, type ExtractOptions, type ExtractResult } from './extract-release.js';
export { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './extract-limits.js';

// Inspection: the same checks as extraction, and the file's digest, in one read that writes nothing.
export { inspectRelease, type InspectOptions, type InspectResult } from './inspect-release.js';

// Durability: one file-system sync of an extracted release before it is activated.
export { syncTree, startWriteBack, type WriteBack } from './sync-tree.js';

// Packing: deterministic, reproducible release tarballs.
export { packRelease, type PackOptions, type PackResult } from './pack-release.js';
export { type SkippedPath } from './release-tree.js';
