import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { swarmError } from '@swarm/errors';
import {
  CONFIG_FILE_OPTION,
  updaterConfigKeys,
  type ConfigKey,
  type ListenAddress,
  type UpdaterConfig,
} from './config-keys.js';

/** Inputs of {@link parseUpdaterConfig}, lowest precedence last: flags > env > file > defaults. */
export interface ParseUpdaterConfigInput {
  /**
   * Flag values keyed by config key (camelCase, as commander names them), strings or numbers.
   * Keys that are not settings (e.g. the CLI's own options) are ignored; `config` names the file.
   */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Environment (`SWARM_*` variables are read; default: none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a JSON config file; overrides `flags.config` and `SWARM_CONFIG`. */
  readonly file?: string | null;
  /** Base for relative paths given by flags and environment (default: process.cwd()). */
  readonly cwd?: string;
}

type Value = string | number | ListenAddress | readonly string[] | null;

/**
 * Merge and validate the updater's configuration. Every problem of every source is collected
 * and reported at once as SWARM_ERR_CONFIG_INVALID with `details.problems`, so an operator
 * fixes a unit file in one pass instead of one restart per typo.
 */
export function parseUpdaterConfig(input: ParseUpdaterConfigInput = {}): UpdaterConfig {
  const flags = input.flags ?? {};
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];
  const values = new Map<keyof UpdaterConfig, Value>();
  for (const key of updaterConfigKeys) values.set(key.key, key.default);

  // Config file: relative paths in it are relative to the file.
  const filePath = input.file ?? stringOrNull(flags.config) ?? nonEmpty(env[CONFIG_FILE_OPTION.env]);
  if (filePath) {
    const file = resolve(cwd, filePath);
    const raw = readConfigFile(file, problems);
    if (raw) {
      const byName = new Map(updaterConfigKeys.map((k) => [k.key as string, k]));
      for (const [name, value] of Object.entries(raw)) {
        const key = byName.get(name);
        if (!key) {
          problems.push(`config file ${file}: unknown key "${name}"`);
          continue;
        }
        setValue(values, key, value, `config file ${file}: ${name}`, dirname(file), problems);
      }
    }
  }
  for (const key of updaterConfigKeys) {
    const value = nonEmpty(env[key.env]);
    if (value !== null) setValue(values, key, value, key.env, cwd, problems);
  }
  for (const key of updaterConfigKeys) {
    const value = flags[key.key];
    if (value !== undefined && value !== null) setValue(values, key, value, key.flag, cwd, problems);
  }

  for (const key of updaterConfigKeys) {
    if (key.required && values.get(key.key) === null) {
      problems.push(`${key.key} is required (${key.flag} or ${key.env})`);
    }
  }
  const get = (k: keyof UpdaterConfig) => values.get(k) as number;
  if (problems.length === 0 && get('restartBackoffMaxMs') < get('restartBackoffMs')) {
    problems.push(
      `restartBackoffMaxMs (${get('restartBackoffMaxMs')}) must be at least restartBackoffMs (${get('restartBackoffMs')})`,
    );
  }
  if (problems.length > 0) {
    throw swarmError('SWARM_ERR_CONFIG_INVALID', `invalid updater configuration:\n  - ${problems.join('\n  - ')}`, {
      problems,
    });
  }
  return Object.fromEntries(values) as unknown as UpdaterConfig;
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(
      `config file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    problems.push(`config file ${file}: not JSON (${(err as Error).message})`);
    return null;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`config file ${file}: must hold a JSON object of settings`);
    return null;
  }
  return raw as Record<string, unknown>;
}

function setValue(
  values: Map<keyof UpdaterConfig, Value>,
  key: ConfigKey,
  raw: unknown,
  source: string,
  base: string,
  problems: string[],
): void {
  const parsed = parseValue(key, raw, base);
  if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
    problems.push(`${source}: ${parsed.problem} (got ${JSON.stringify(raw)})`);
    return;
  }
  values.set(key.key, parsed);
}

function parseValue(key: ConfigKey, raw: unknown, base: string): Value | { problem: string } {
  switch (key.type) {
    case 'path':
      if (typeof raw !== 'string' || raw === '') return { problem: 'must be a non-empty path' };
      return resolve(base, raw);
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      const range = `${key.min ?? 0}..${key.max ?? 'any'}`;
      if (!Number.isSafeInteger(n)) return { problem: `must be an integer (${range})` };
      if (key.min !== undefined && n < key.min) return { problem: `must be at least ${key.min}` };
      if (key.max !== undefined && n > key.max) return { problem: `must be at most ${key.max}` };
      return n;
    }
    case 'duration': {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseDuration(raw) : NaN;
      if (!Number.isSafeInteger(ms)) return { problem: 'must be a duration with its unit: 500ms, 30s, 15m, 1h or 1d' };
      if (key.min !== undefined && ms < key.min) return { problem: `must be at least ${key.min} ms` };
      return ms;
    }
    case 'hosts': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!list || list.some((h) => typeof h !== 'string')) return { problem: 'must be HOST[:PORT] names, comma-separated' };
      const hosts = (list as string[]).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
      const bad = hosts.find((h) => !/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/.test(h));
      return bad === undefined ? hosts : { problem: `${JSON.stringify(bad)} is not HOST[:PORT]` };
    }
    case 'listen':
      return typeof raw === 'string'
        ? (parseListen(raw) ?? { problem: 'must be HOST:PORT (IPv6 as [ADDR]:PORT), port 0-65535' })
        : { problem: 'must be a HOST:PORT string' };
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `15m`, `1h`, `1d` (the unit is required; a JSON number in the file is ms); NaN otherwise. */
function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(text);
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : NaN;
}

/** Parse `host:port` or `[v6]:port`; port 0 asks the OS for a free port (tests). */
export function parseListen(text: string): ListenAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) return null;
  if (m[1] !== undefined && isIP(host) !== 6) return null;
  return { host, port };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
