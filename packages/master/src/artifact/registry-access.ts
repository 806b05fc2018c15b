import { readFile } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import { createOciClient, readDockerConfig, type OciClient } from '@swarm/oci-client';

/** How the master reaches registries: `--registry-auth`, `--registry-ca`, `--registry-plain-http`. */
export interface RegistryAccess {
  /** A Docker `config.json` with logins (`SWARM_REGISTRY_AUTH`); none: anonymous. */
  readonly auth?: string | undefined;
  /** CA certificates (PEM) trusted besides the system's. */
  readonly ca?: string | undefined;
  /** Registries (`HOST[:PORT]`) spoken to over plain HTTP. */
  readonly plainHttp?: readonly string[] | undefined;
  /** Deadline of one registry call with its retries, ms. */
  readonly timeoutMs?: number | undefined;
}

/** The master's registry client, from the files named by its registry options. */
export async function openRegistryClient(access: RegistryAccess): Promise<OciClient> {
  const credentials = access.auth ? await readDockerConfig(access.auth) : new Map();
  let caPem: string | undefined;
  if (access.ca) {
    try {
      caPem = await readFile(access.ca, 'utf8');
    } catch (err) {
      throw swarmError('SWARM_ERR_CONFIG_INVALID', `--registry-ca ${access.ca}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file: access.ca });
    }
  }
  return createOciClient({
    credentials,
    ...(caPem ? { caPem } : {}),
    plainHttp: access.plainHttp ?? [],
    ...(access.timeoutMs ? { timeoutMs: access.timeoutMs } : {}),
  });
}
