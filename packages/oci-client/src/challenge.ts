/** One `WWW-Authenticate` challenge: its scheme and its parameters. */
export interface Challenge {
  /** Lower case: `bearer`, `basic`. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parse a `WWW-Authenticate` value (RFC 9110 §11.6.1): `Bearer realm="…",service="…",scope="…"`
 * or `Basic realm="…"`, with quoted strings and their backslash escapes. Only the first
 * challenge is kept: registries send one.
 */
export function parseChallenge(header: string | string[] | undefined): Challenge | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const scheme = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)/.exec(value);
  if (!scheme?.[1]) return null;
  const params: Record<string, string> = {};
  const param = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  param.lastIndex = scheme[0].length;
  for (let m = param.exec(value); m; m = param.exec(value)) {
    const name = m[1];
    if (!name) break;
    params[name.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: scheme[1].toLowerCase(), params };
}
