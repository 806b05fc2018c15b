export { parseChallenge, type Challenge } from './challenge.js';
export { parseDockerConfig, readDockerConfig, registryKey, type RegistryCredentials, type RegistryLogin } from './docker-config.js';
export {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_REGISTRY_TIMEOUT_MS,
  MAX_MANIFEST_BYTES,
  createOciClient,
  type BlobSource,
  type CallOptions,
  type Manifest,
  type OciClient,
  type OciClientOptions,
} from './oci-client.js';
export { formatReference, isDigest, parseReference, type ImageReference, type Repository } from './reference.js';
export {
  MANIFEST_MEDIA_TYPE,
  RELEASE_ARTIFACT_TYPE,
  RELEASE_CONFIG_MEDIA_TYPE,
  RELEASE_LAYER_MEDIA_TYPE,
  RELEASE_SIGNATURE_MEDIA_TYPE,
  TITLE_ANNOTATION,
  VERSION_ANNOTATION,
  parseReleaseManifest,
  releaseManifest,
  type Descriptor,
  type ReleaseArtifact,
} from './release-artifact.js';
