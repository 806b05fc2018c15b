import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { inspectRelease } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import {
  MANIFEST_MEDIA_TYPE,
  formatReference,
  releaseManifest,
  type BlobSource,
  type ImageReference,
  type OciClient,
} from '@swarm/oci-client';
import { prepareRelease, type ReleaseSource } from '../rollout/release-source.js';

/** What `swarm publish` prints (SPEC §11): the tarball's `sha256`, the manifest's `digest`. */
export interface PublishResult {
  readonly name: string;
  readonly version: string;
  /** The release tarball's SHA-256, 64 hex digits (as `swarm pack` prints it). */
  readonly sha256: string;
  readonly size: number;
  /** `HOST[:PORT]/REPOSITORY@sha256:…`: what `swarm update --from` takes. */
  readonly reference: string;
  /** The artifact manifest's digest. */
  readonly digest: string;
  /** The tag the manifest was put under, or null. */
  readonly tag: string | null;
  /** Blobs sent (the registry had the others): `config`, `layer`. */
  readonly pushed: readonly ('config' | 'layer')[];
}

/** Options of {@link publishRelease}. */
export interface PublishOptions {
  readonly client: OciClient;
  /** Where to publish: `HOST[:PORT]/REPOSITORY[:TAG]`. */
  readonly reference: ImageReference;
  readonly source: ReleaseSource;
  /** Tarball bytes sent so far, of `total` (the layer only; a blob the registry has sends none). */
  readonly onProgress?: (sent: number, total: number) => void;
}

/**
 * Publish a release as an OCI artifact (wiki/registry-pull.md): pack the tree (the very
 * tarball `swarm pack` makes of it) or check the given tarball, then push its `release.json`
 * as the config blob and the tarball as the first layer — each skipped when the registry has
 * it — and the manifest, under the tag when there is one. Publishing the same tree twice gives
 * the same digest and sends no blob the second time.
 */
export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const { client, reference } = options;
  if (reference.digest) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `publish takes HOST[:PORT]/REPOSITORY[:TAG], not a digest (${formatReference(reference)}): the digest is what publishing makes`,
    );
  }
  const prepared = await prepareRelease(options.source);
  try {
    // release.json exactly as the tarball holds it: the config blob.
    const inspected = await inspectRelease(prepared.file);
    const config = inspected.manifestBytes;
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const layerDigest = `sha256:${prepared.sha256}`;
    const pushed: ('config' | 'layer')[] = [];
    if ((await client.pushBlob(reference, configDigest, { size: config.length, open: () => config })).pushed) {
      pushed.push('config');
    }
    const layer: BlobSource = {
      size: prepared.size,
      open: (range) => {
        let sent = range?.start ?? 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            sent += chunk.length;
            options.onProgress?.(sent, prepared.size);
            done(null, chunk);
          },
        });
        return createReadStream(prepared.file, range ? { start: range.start, end: range.end } : {}).pipe(counter);
      },
    };
    if ((await client.pushBlob(reference, layerDigest, layer)).pushed) pushed.push('layer');
    const bytes = releaseManifest({
      name: prepared.name,
      version: prepared.version,
      config: { digest: configDigest, size: config.length },
      layer: { digest: layerDigest, size: prepared.size },
    });
    const digest = await client.putManifest(reference, reference.tag ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`, {
      bytes,
      mediaType: MANIFEST_MEDIA_TYPE,
    });
    return {
      name: prepared.name,
      version: prepared.version,
      sha256: prepared.sha256,
      size: prepared.size,
      reference: formatReference({ ...reference, tag: null, digest }),
      digest,
      tag: reference.tag,
      pushed,
    };
  } finally {
    await prepared.dispose();
  }
}
