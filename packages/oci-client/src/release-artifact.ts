import { swarmError } from '@swarm/errors';
import { isDigest } from './reference.js';

/**
 * The swarm release as an OCI artifact (SPEC §11; wiki/registry-pull.md): an image manifest
 * whose config is the release's `release.json` and whose first layer is the release tarball.
 */
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const RELEASE_ARTIFACT_TYPE = 'application/vnd.swarm.release.v1';
export const RELEASE_CONFIG_MEDIA_TYPE = 'application/vnd.swarm.release.config.v1+json';
export const RELEASE_LAYER_MEDIA_TYPE = 'application/vnd.swarm.release.layer.v1.tar+gzip';
export const RELEASE_SIGNATURE_MEDIA_TYPE = 'application/vnd.swarm.release.signature.v1+json';
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const VERSION_ANNOTATION = 'org.opencontainers.image.version';

/** A content descriptor: what a manifest says about one blob. */
export interface Descriptor {
  readonly mediaType: string;
  /** `sha256:<64 hex>` */
  readonly digest: string;
  readonly size: number;
}

/** What a release artifact's manifest says. */
export interface ReleaseArtifact {
  /** From the annotations (the tarball's release.json is what the updater trusts). */
  readonly name: string;
  readonly version: string;
  readonly config: Descriptor;
  /** The release tarball: its digest is the release's sha256. */
  readonly layer: Descriptor;
  /** The signature envelope (§12), when the artifact carries one. */
  readonly signature: Descriptor | null;
}

/**
 * The manifest of a release artifact, as bytes: JSON with its keys in a fixed order, so the
 * same release always gives the same manifest digest.
 */
export function releaseManifest(release: {
  readonly name: string;
  readonly version: string;
  readonly config: Omit<Descriptor, 'mediaType'>;
  readonly layer: Omit<Descriptor, 'mediaType'>;
  readonly signature?: Omit<Descriptor, 'mediaType'>;
}): Buffer {
  const layers = [{ mediaType: RELEASE_LAYER_MEDIA_TYPE, digest: release.layer.digest, size: release.layer.size }];
  if (release.signature) {
    layers.push({ mediaType: RELEASE_SIGNATURE_MEDIA_TYPE, digest: release.signature.digest, size: release.signature.size });
  }
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      artifactType: RELEASE_ARTIFACT_TYPE,
      config: { mediaType: RELEASE_CONFIG_MEDIA_TYPE, digest: release.config.digest, size: release.config.size },
      layers,
      annotations: { [TITLE_ANNOTATION]: release.name, [VERSION_ANNOTATION]: release.version },
    }),
  );
}

/**
 * Read a manifest as a swarm release: an OCI image manifest with our artifactType (or, as
 * registries without artifactType support write it, our config media type), our config, the
 * tarball as its first layer and at most one signature layer after it. Anything else is
 * SWARM_ERR_ARTIFACT_INVALID naming what is wrong; `where` names the artifact in messages.
 */
export function parseReleaseManifest(bytes: Buffer, where: string): ReleaseArtifact {
  const bad = (why: string) => swarmError('SWARM_ERR_ARTIFACT_INVALID', `${where} is not a swarm release: ${why}`, { artifact: where });
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('its manifest is not JSON');
  }
  if (!isObject(doc)) throw bad('its manifest is not a JSON object');
  if (doc.schemaVersion !== 2) throw bad(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, not 2`);
  if (doc.mediaType !== undefined && doc.mediaType !== MANIFEST_MEDIA_TYPE) {
    throw bad(`its mediaType is ${JSON.stringify(doc.mediaType)}, not ${MANIFEST_MEDIA_TYPE}`);
  }
  const config = descriptor(doc.config, 'config', bad);
  if (doc.artifactType !== undefined && doc.artifactType !== RELEASE_ARTIFACT_TYPE) {
    throw bad(`its artifactType is ${JSON.stringify(doc.artifactType)}, not ${RELEASE_ARTIFACT_TYPE}`);
  }
  if (config.mediaType !== RELEASE_CONFIG_MEDIA_TYPE) {
    throw bad(`its config's mediaType is ${JSON.stringify(config.mediaType)}, not ${RELEASE_CONFIG_MEDIA_TYPE}`);
  }
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) throw bad('it has no layer (the release tarball is its first layer)');
  const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`, bad));
  const layer = layers[0]!;
  if (layer.mediaType !== RELEASE_LAYER_MEDIA_TYPE) {
    throw bad(`its first layer's mediaType is ${JSON.stringify(layer.mediaType)}, not ${RELEASE_LAYER_MEDIA_TYPE}`);
  }
  let signature: Descriptor | null = null;
  for (const [i, extra] of layers.slice(1).entries()) {
    if (extra.mediaType !== RELEASE_SIGNATURE_MEDIA_TYPE || signature) {
      throw bad(`layers[${i + 1}] is ${JSON.stringify(extra.mediaType)}; after the tarball only one ${RELEASE_SIGNATURE_MEDIA_TYPE} layer may follow`);
    }
    signature = extra;
  }
  const annotations = isObject(doc.annotations) ? doc.annotations : {};
  const name = annotations[TITLE_ANNOTATION];
  const version = annotations[VERSION_ANNOTATION];
  if (typeof name !== 'string' || name === '') throw bad(`the annotation ${TITLE_ANNOTATION} (the release name) is missing`);
  if (typeof version !== 'string' || version === '') throw bad(`the annotation ${VERSION_ANNOTATION} (the release version) is missing`);
  return { name, version, config, layer, signature };
}

function descriptor(value: unknown, what: string, bad: (why: string) => Error): Descriptor {
  if (!isObject(value)) throw bad(`${what} is not a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string') throw bad(`${what} has no mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw bad(`${what}'s digest ${JSON.stringify(digest)} is not sha256: and 64 lower-case hex digits`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`${what}'s size ${JSON.stringify(size)} is not a byte count`);
  return { mediaType, digest, size };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
