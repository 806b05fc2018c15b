import { readFile } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';

/** A user name and password for one registry. */
export interface RegistryLogin {
  readonly username: string;
  readonly password: string;
}

/** Logins by registry `HOST[:PORT]`, as a Docker `config.json` holds them. */
export type RegistryCredentials = ReadonlyMap<string, RegistryLogin>;

/**
 * Read a Docker `config.json`: `auths.<key>.auth` is base64 of `user:password` (or the
 * entry has `username` and `password`). A key may be written as a URL
 * (`https://registry.example:5000/v1/`): its host and port are the registry. Entries with
 * neither (an `identitytoken` only, or a `credsStore` helper) are not logins swarm can use and
 * are left out. A file that is missing, not JSON or has a malformed `auth` is
 * SWARM_ERR_CONFIG_INVALID naming the file and the entry.
 */
export async function readDockerConfig(file: string): Promise<RegistryCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(file, `cannot read it: ${(err as Error).message}`);
  }
  return parseDockerConfig(text, file);
}

/** {@link readDockerConfig} of text already read; `source` names it in errors. */
export function parseDockerConfig(text: string, source: string): RegistryCredentials {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not JSON.parse's message: it quotes the text around the fault, which may be a password.
    throw invalid(source, 'it is not JSON (check its quotes, commas and braces)');
  }
  if (!isObject(doc)) throw invalid(source, 'it is not a JSON object');
  const auths = doc.auths ?? {};
  if (!isObject(auths)) throw invalid(source, '"auths" is not an object');
  const logins = new Map<string, RegistryLogin>();
  for (const [key, entry] of Object.entries(auths)) {
    if (!isObject(entry)) throw invalid(source, `auths[${JSON.stringify(key)}] is not an object`);
    const login = loginOf(entry, () => invalid(source, `auths[${JSON.stringify(key)}].auth is not base64 of user:password`));
    if (login) logins.set(registryKey(key), login);
  }
  return logins;
}

/** The registry a `config.json` key names: `HOST[:PORT]`, with a scheme and path dropped. */
export function registryKey(key: string): string {
  const bare = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = bare.indexOf('/');
  return (slash === -1 ? bare : bare.slice(0, slash)).toLowerCase();
}

function loginOf(entry: Record<string, unknown>, malformed: () => Error): RegistryLogin | null {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entry.auth)) throw malformed();
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw malformed();
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password };
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(source: string, why: string) {
  return swarmError('SWARM_ERR_CONFIG_INVALID', `the registry credentials ${source}: ${why}`, { file: source });
}
