import { readFile } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import { assertTrustDomain } from '@swarm/pki';

/** `home.json`: what a master home is, beyond its files. */
export interface HomeManifest {
  /** Layout version of the home; bumped if the layout ever changes. */
  readonly format: 1;
  readonly trustDomain: string;
  /** ISO 8601 time of `swarm init`. */
  readonly createdAt: string;
}

export function manifestText(manifest: HomeManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Read and check `home.json`; SWARM_ERR_HOME_INVALID when it is unreadable or malformed. */
export async function readManifest(path: string): Promise<HomeManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw swarmError(
      'SWARM_ERR_HOME_INVALID',
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const o = (raw ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (o.format !== 1) problems.push(`format must be 1, not ${JSON.stringify(o.format)}`);
  if (typeof o.trustDomain !== 'string') problems.push('trustDomain must be a string');
  else {
    try {
      assertTrustDomain(o.trustDomain);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (typeof o.createdAt !== 'string') problems.push('createdAt must be a string');
  if (problems.length > 0) {
    throw swarmError('SWARM_ERR_HOME_INVALID', `${path}: ${problems.join('; ')}`, { path, problems });
  }
  return { format: 1, trustDomain: o.trustDomain as string, createdAt: o.createdAt as string };
}
