import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { swarmError } from '@swarm/errors';
import {
  createOciClient,
  formatReference,
  parseReference,
  parseReleaseManifest,
  readDockerConfig,
  type RegistryCredentials,
} from '@swarm/oci-client';
import type { PullRequest } from '@swarm/protocol';
import type { UpdaterConfig } from '../config/config-keys.js';
import type { UploadReceiver } from './receive-upload.js';

/** Options of {@link pullRelease}. */
export interface PullOptions {
  readonly config: Pick<UpdaterConfig, 'maxUploadBytes' | 'registryAuth' | 'registryCa' | 'registryPlainHttp' | 'registryTimeout'>;
  /** Called once, when the first bytes of the tarball are on their way to disk. */
  readonly onFirstBytes?: () => void;
  /**
   * True when the host already holds a release with this tarball digest: its layer is then not
   * downloaded (the lifecycle reuses the release, or answers `unchanged` for the active one).
   */
  readonly holds?: (sha256: string) => Promise<boolean>;
}

/**
 * The receive step of `POST /pull` (wiki/registry-pull.md): fetch the artifact's manifest by
 * digest (its bytes checked against it, at most 4 MiB), check it is a swarm release, then
 * stream its first layer — the release tarball — to `file` under the upload cap, hashed while
 * it is written and checked against the layer's digest. What it returns is what an upload's
 * receive returns, so verify, extract, install and activate are the very steps of `/update`.
 *
 * The logins (`--registry-auth`) and CAs (`--registry-ca`) are read for each pull, so rotated
 * credentials apply without a restart; a file that cannot be read fails the pull, not the
 * updater.
 */
export function pullRelease(request: PullRequest, options: PullOptions): UploadReceiver {
  return async (file, signal) => {
    const { config } = options;
    const ref = parseReference(`${request.registry}/${request.repository}@${request.digest}`, 'the pull request');
    const where = formatReference(ref);
    const [credentials, caPem] = await Promise.all([
      config.registryAuth ? readDockerConfig(config.registryAuth) : Promise.resolve<RegistryCredentials>(new Map()),
      config.registryCa ? readCa(config.registryCa) : Promise.resolve(undefined),
    ]);
    const client = createOciClient({
      credentials,
      ...(caPem ? { caPem } : {}),
      plainHttp: config.registryPlainHttp ?? [],
      timeoutMs: config.registryTimeout,
    });
    try {
      const deadline = Date.now() + config.registryTimeout;
      const call = { signal, deadline };
      const manifest = await client.getManifest(ref, request.digest, call);
      const artifact = parseReleaseManifest(manifest.bytes, where);
      const { layer } = artifact;
      if (layer.size > config.maxUploadBytes) {
        throw swarmError(
          'SWARM_ERR_ARTIFACT_TOO_LARGE',
          `${where}: its release tarball is ${layer.size} bytes, over the upload cap of ${config.maxUploadBytes} bytes; nothing was downloaded`,
          { maxUploadBytes: config.maxUploadBytes, size: layer.size },
        );
      }
      const sha256 = layer.digest.slice('sha256:'.length);
      if (await options.holds?.(sha256)) {
        // Held already: what an upload of it would have declared and received, without the bytes.
        return { declared: { sha256, size: layer.size }, sha256, bytes: layer.size, file };
      }
      const blob = await client.getBlob(ref, layer.digest, { ...call, maxBytes: config.maxUploadBytes });
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          if (bytes === 0) options.onFirstBytes?.();
          bytes += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(blob, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }), { signal });
      return {
        declared: { sha256, size: layer.size },
        sha256: hash.digest('hex'),
        bytes,
        file,
      };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      await client.close();
    }
  };
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `--registry-ca ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file });
  }
}
