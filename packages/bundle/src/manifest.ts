import type { Stats } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSwarmError, swarmError } from '@swarm/errors';
import { normalizeEntryPath } from './entry-policy.js';

/** The file at the root of every release that describes it (wiki/reference/layouts.md#release-tarball). */
export const MANIFEST_FILE = 'release.json';

/** The literal a health URL or address may carry; the updater replaces it with the agent port. */
export const AGENT_PORT_PLACEHOLDER = '${SWARM_AGENT_PORT}';

/** Release names: one path segment, safe in file names and logs. */
export const RELEASE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** Release versions: usable as the first half of a directory name (`<version>-<sha12>`). */
export const RELEASE_VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

/** Upper bound of every duration in a manifest: one hour. */
export const MAX_MANIFEST_DURATION_MS = 3_600_000;

/** release.json is read whole; anything larger than this is not a manifest. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Timing shared by every kind of health check; the updater's defaults apply when absent. */
export interface HealthTiming {
  /** How long the agent must answer healthy without a break, in ms (0..1 h). */
  healthyForMs?: number;
  /** How long the probe may take in all, in ms (0..1 h, at least `healthyForMs`). */
  deadlineMs?: number;
}

/** Probe an http(s) URL; it may contain `${SWARM_AGENT_PORT}`. */
export interface UrlHealthCheck extends HealthTiming {
  url: string;
}

/** Probe a TCP `host:port`; the port may be `${SWARM_AGENT_PORT}`. */
export interface TcpHealthCheck extends HealthTiming {
  tcp: string;
}

/** Run a command (like `start`: release directory, same variables); exit 0 is healthy. */
export interface ExecHealthCheck extends HealthTiming {
  exec: string[];
}

/** Exactly one kind of health check. */
export type HealthCheck = UrlHealthCheck | TcpHealthCheck | ExecHealthCheck;

/**
 * A validated `release.json` (wiki/reference/layouts.md#release-tarball).
 *
 * Unknown keys are ignored, so a release written for a newer swarm still installs on an
 * older updater; they are dropped from the validated object. The keys `__proto__`,
 * `constructor` and `prototype` are refused wherever they appear: they have no meaning
 * here and only ever show up in prototype-pollution attempts.
 */
export interface ReleaseManifest {
  /** One path segment: `^[a-z0-9][a-z0-9._-]{0,63}$`, case-insensitive. */
  name: string;
  /** `^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$`, so that `<version>-<sha12>` is a directory name. */
  version: string;
  /** The agent's command line (argv, no shell), run in the release directory. */
  start: string[];
  /** Optional command run inside the staged release before it is activated. */
  install?: string[];
  /** Optional health check; the updater's defaults apply to absent timings. */
  health?: HealthCheck;
  /** Grace between SIGTERM and SIGKILL when the agent is stopped, in ms (0..1 h). */
  stopTimeoutMs?: number;
  /**
   * What `swarm pack` ships, like package.json `files`: each entry is a relative path that
   * includes that file, or that directory recursively. `release.json` always ships.
   * Normalized: no leading `./`, no trailing `/`. Plain paths, not globs.
   */
  files?: string[];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const HEALTH_KINDS = ['url', 'tcp', 'exec'] as const;

/**
 * Validate a parsed `release.json`. Every problem is reported at once in one
 * SWARM_ERR_RELEASE_MANIFEST_INVALID error (`details.problems`), so an operator fixes the
 * file in one go. Returns a fresh object holding only the known keys.
 */
export function validateManifest(raw: unknown): ReleaseManifest {
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(['release.json must be a JSON object']);
  }
  const obj = raw as Record<string, unknown>;
  forbiddenKeys(obj, '', problems);

  const name = obj.name;
  if (typeof name !== 'string') problems.push('name: required, a string');
  else if (!RELEASE_NAME_PATTERN.test(name)) {
    problems.push(
      `name: "${clip(name)}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }

  const version = obj.version;
  if (typeof version !== 'string') problems.push('version: required, a string');
  else if (!RELEASE_VERSION_PATTERN.test(version)) {
    problems.push(
      `version: "${clip(version)}" must be 1-64 letters, digits, '.', '+', '_' or '-', starting with a letter or digit`,
    );
  }

  const start = obj.start === undefined ? undefined : command(obj.start, 'start', problems);
  if (obj.start === undefined) problems.push('start: required, a non-empty array of strings (argv, no shell)');
  const install = obj.install === undefined ? undefined : command(obj.install, 'install', problems);
  const health = obj.health === undefined ? undefined : healthCheck(obj.health, problems);
  const stopTimeoutMs =
    obj.stopTimeoutMs === undefined ? undefined : duration(obj.stopTimeoutMs, 'stopTimeoutMs', problems);
  const files = obj.files === undefined ? undefined : fileList(obj.files, problems);

  if (problems.length > 0) throw invalid(problems);
  const manifest: ReleaseManifest = { name: name as string, version: version as string, start: start! };
  if (install !== undefined) manifest.install = install;
  if (health !== undefined) manifest.health = health;
  if (stopTimeoutMs !== undefined) manifest.stopTimeoutMs = stopTimeoutMs;
  if (files !== undefined) manifest.files = files;
  return manifest;
}

/**
 * Read and validate `<dir>/release.json`. It must be a regular file (not a symlink, not a
 * directory): SWARM_ERR_RELEASE_MANIFEST_MISSING when absent, SWARM_ERR_RELEASE_MANIFEST_INVALID
 * when it is something else, unreadable, not JSON, or invalid.
 */
export async function readManifest(dir: string): Promise<ReleaseManifest> {
  const path = join(dir, MANIFEST_FILE);
  let found: FoundManifest | undefined;
  try {
    const stat = await lstat(path);
    found = { kind: kindOfStat(stat), size: stat.size };
    if (found.kind === 'file' && stat.size <= MAX_MANIFEST_BYTES) found.text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw invalid([`release.json cannot be read: ${(err as Error).message}`], path);
    }
  }
  return parseFoundManifest(found, dir, path);
}

function kindOfStat(stat: Stats): FoundManifest['kind'] {
  if (stat.isFile()) return 'file';
  if (stat.isSymbolicLink()) return 'symlink';
  return stat.isDirectory() ? 'directory' : 'special';
}

/** What sits at `release.json` in a release tree or an archive. */
export interface FoundManifest {
  kind: 'file' | 'symlink' | 'directory' | 'special';
  /** Bytes, for a file. */
  size: number;
  /** The content, for a file of at most MAX_MANIFEST_BYTES. */
  text?: string;
  /** The same content as bytes, exactly as the archive holds them (inspect-release.ts). */
  bytes?: Buffer;
}

/**
 * The one judgement of what was found at `release.json`, whether read from an extracted tree
 * ({@link readManifest}) or from the archive itself (inspect-release.ts), so both refuse the
 * same releases with the same codes. `where` names the release in the MISSING message; `path`
 * goes into the details.
 */
export function parseFoundManifest(found: FoundManifest | undefined, where: string, path: string): ReleaseManifest {
  if (found === undefined) {
    throw swarmError('SWARM_ERR_RELEASE_MANIFEST_MISSING', `no release.json in ${where}`, { path });
  }
  if (found.kind !== 'file') {
    const kind = found.kind === 'special' ? 'a special file' : `a ${found.kind}`;
    throw invalid([`release.json must be a regular file, found ${kind}`], path);
  }
  if (found.size > MAX_MANIFEST_BYTES || found.text === undefined) {
    throw invalid([`release.json is ${found.size} bytes; at most ${MAX_MANIFEST_BYTES} are accepted`], path);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(found.text);
  } catch (err) {
    throw invalid([`release.json is not valid JSON: ${(err as Error).message}`], path);
  }
  try {
    return validateManifest(raw);
  } catch (err) {
    if (isSwarmError(err)) err.details.path = path;
    throw err;
  }
}

/** The id of a release on a worker: `<version>-<first 12 hex digits of the tarball's sha256>`. */
export function releaseId(manifest: Pick<ReleaseManifest, 'version'>, sha256: string): string {
  if (!/^[0-9a-f]{64}$/i.test(sha256)) {
    throw swarmError('SWARM_ERR_UPLOAD_DIGEST_INVALID', `not a sha256: "${clip(sha256)}"`);
  }
  return `${manifest.version}-${sha256.slice(0, 12).toLowerCase()}`;
}

function invalid(problems: string[], path?: string) {
  const list = problems.map((p) => `  - ${p}`).join('\n');
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return swarmError(
    'SWARM_ERR_RELEASE_MANIFEST_INVALID',
    `release.json is invalid (${problems.length} ${noun}):\n${list}`,
    path === undefined ? { problems } : { problems, path },
  );
}

function forbiddenKeys(obj: Record<string, unknown>, at: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (FORBIDDEN_KEYS.has(key)) problems.push(`${at}${key}: forbidden key`);
  }
}

function command(value: unknown, field: string, problems: string[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${field}: must be a non-empty array of strings (argv, no shell)`);
    return undefined;
  }
  let ok = true;
  value.forEach((arg, i) => {
    if (typeof arg !== 'string' || arg.length === 0) {
      problems.push(`${field}[${i}]: must be a non-empty string`);
      ok = false;
    } else if (arg.includes('\0')) {
      problems.push(`${field}[${i}]: must not contain a NUL character`);
      ok = false;
    }
  });
  return ok ? [...(value as string[])] : undefined;
}

function duration(value: unknown, field: string, problems: string[]): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_MANIFEST_DURATION_MS) {
    problems.push(`${field}: must be an integer number of milliseconds from 0 to ${MAX_MANIFEST_DURATION_MS}`);
    return undefined;
  }
  return value;
}

function healthCheck(value: unknown, problems: string[]): HealthCheck | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push('health: must be an object with one of url, tcp or exec');
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  forbiddenKeys(obj, 'health.', problems);
  const kinds = HEALTH_KINDS.filter((k) => obj[k] !== undefined);
  const before = problems.length;
  if (kinds.length !== 1) {
    problems.push(
      kinds.length === 0
        ? 'health: must have one of url, tcp or exec'
        : `health: must have exactly one of url, tcp or exec, found ${kinds.join(' and ')}`,
    );
  }
  const timing: HealthTiming = {};
  if (obj.healthyForMs !== undefined) {
    const v = duration(obj.healthyForMs, 'health.healthyForMs', problems);
    if (v !== undefined) timing.healthyForMs = v;
  }
  if (obj.deadlineMs !== undefined) {
    const v = duration(obj.deadlineMs, 'health.deadlineMs', problems);
    if (v !== undefined) timing.deadlineMs = v;
  }
  if (timing.healthyForMs !== undefined && timing.deadlineMs !== undefined && timing.healthyForMs > timing.deadlineMs) {
    problems.push('health.healthyForMs: must not exceed health.deadlineMs (the probe could never pass)');
  }
  let check: HealthCheck | undefined;
  if (obj.url !== undefined) {
    const url = healthUrl(obj.url, problems);
    if (url !== undefined) check = { url, ...timing };
  }
  if (obj.tcp !== undefined) {
    const tcp = tcpAddress(obj.tcp, problems);
    if (tcp !== undefined) check = { tcp, ...timing };
  }
  if (obj.exec !== undefined) {
    const exec = command(obj.exec, 'health.exec', problems);
    if (exec !== undefined) check = { exec, ...timing };
  }
  return problems.length === before ? check : undefined;
}

function healthUrl(value: unknown, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push('health.url: must be an http or https URL');
    return undefined;
  }
  let url: URL;
  try {
    // The placeholder is not a valid port until the updater substitutes it; check the rest.
    url = new URL(value.replaceAll(AGENT_PORT_PLACEHOLDER, '8765'));
  } catch {
    problems.push(`health.url: "${clip(value)}" is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`health.url: must use http or https, not ${url.protocol.slice(0, -1)}`);
    return undefined;
  }
  if (url.hostname === '') {
    problems.push('health.url: must name a host');
    return undefined;
  }
  return value;
}

function tcpAddress(value: unknown, problems: string[]): string | undefined {
  const problem = `health.tcp: must be "host:port" (port 1-65535 or ${AGENT_PORT_PLACEHOLDER}; IPv6 as "[::1]:port")`;
  if (typeof value !== 'string') {
    problems.push(problem);
    return undefined;
  }
  const colon = value.lastIndexOf(':');
  const host = colon > 0 ? value.slice(0, colon) : '';
  const port = colon > 0 ? value.slice(colon + 1) : '';
  const hostOk = /^\[[0-9a-f:.]+\]$/i.test(host) || /^[a-z0-9._-]+$/i.test(host);
  const portOk = port === AGENT_PORT_PLACEHOLDER || (/^[0-9]{1,5}$/.test(port) && +port >= 1 && +port <= 65535);
  if (!hostOk || !portOk) {
    problems.push(problem);
    return undefined;
  }
  return value;
}

function fileList(value: unknown, problems: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push('files: must be an array of relative paths');
    return undefined;
  }
  const out: string[] = [];
  value.forEach((entry, i) => {
    if (typeof entry !== 'string' || entry.length === 0) {
      problems.push(`files[${i}]: must be a non-empty string`);
      return;
    }
    const verdict = normalizeEntryPath(entry);
    if (!verdict.ok) problems.push(`files[${i}]: "${clip(entry)}": ${verdict.reason}`);
    else if (verdict.path === '')
      problems.push(`files[${i}]: "${clip(entry)}" names the whole tree; leave files out instead`);
    else out.push(verdict.path);
  });
  return out.length === value.length ? out : undefined;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
