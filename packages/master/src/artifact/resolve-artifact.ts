import { swarmError } from '@swarm/errors';
import { formatReference, parseReleaseManifest, type ImageReference, type OciClient } from '@swarm/oci-client';
import type { PackedRelease } from '../rollout/host-steps.js';

/** A release on a registry, resolved to its digest once for the whole rollout. */
export type PulledRelease = PackedRelease & {
  readonly artifact: { readonly registry: string; readonly repository: string; readonly digest: string; readonly tag: string | null };
  /** `HOST/REPO[:TAG]@sha256:…`, for the history and the operator. */
  readonly from: string;
};

/**
 * Resolve `swarm update --from REF`: fetch the manifest once — by digest when the reference
 * has one (its bytes checked against it), else by tag — and check it is a swarm release. Every
 * host is then sent that digest, so all get the same bytes even if the tag moves meanwhile.
 */
export async function resolveArtifact(client: OciClient, reference: ImageReference, signal?: AbortSignal): Promise<PulledRelease> {
  const by = reference.digest ?? reference.tag;
  if (!by) {
    throw swarmError(
      'SWARM_ERR_USAGE_INVALID',
      `--from ${formatReference(reference)} names neither a tag nor a digest: give HOST/REPO:TAG or HOST/REPO@sha256:… (swarm does not assume "latest")`,
    );
  }
  const manifest = await client.getManifest(reference, by, signal ? { signal } : {});
  const digest = reference.digest ?? manifest.digest;
  const artifact = parseReleaseManifest(manifest.bytes, formatReference({ ...reference, digest }));
  return {
    name: artifact.name,
    version: artifact.version,
    sha256: artifact.layer.digest.slice('sha256:'.length),
    size: artifact.layer.size,
    artifact: { registry: reference.registry, repository: reference.repository, digest, tag: reference.tag },
    from: formatReference({ ...reference, digest }),
  };
}
