import { swarmError } from '@swarm/errors';
import { signEnvelope, verifyEnvelope, type Envelope } from './dsse.js';
import type { SigningKey, TrustedKey } from './release-keys.js';

/** The payload type of a release statement (SPEC §12). */
export const STATEMENT_TYPE = 'application/vnd.swarm.release.statement.v1+json';

/** What a signature vouches for: this tarball, as this release, until `expires`. */
export interface ReleaseStatement {
  readonly name: string;
  readonly version: string;
  /** The tarball's SHA-256, 64 lowercase hex digits. */
  readonly sha256: string;
  readonly size: number;
  /** RFC 3339 UTC. */
  readonly signedAt: string;
  /** RFC 3339 UTC, or null: no expiry. */
  readonly expires: string | null;
  readonly allowDowngrade: boolean;
}

/** The release a statement is checked against: the upload, and its release.json. */
export interface ReleaseFacts {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
}

/** Sign a statement of `release` (a new envelope, or one more signature on `into`). */
export function signRelease(
  release: ReleaseFacts,
  key: SigningKey,
  options: { readonly expiresInMs?: number | null; readonly allowDowngrade?: boolean; readonly now?: Date; readonly into?: Envelope } = {},
): { envelope: Envelope; statement: ReleaseStatement } {
  let statement: ReleaseStatement;
  if (options.into) {
    // Another signature on the same statement, byte for byte.
    statement = parseStatement(Buffer.from(options.into.payload, 'base64'));
    if (statement.sha256 !== release.sha256 || statement.size !== release.size) {
      throw swarmError('SWARM_ERR_USAGE_INVALID', `the existing envelope signs ${statement.name} ${statement.version} (sha256 ${statement.sha256}), not this tarball`);
    }
    return { envelope: signEnvelope(STATEMENT_TYPE, Buffer.from(options.into.payload, 'base64'), key, options.into), statement };
  }
  const now = options.now ?? new Date();
  statement = {
    name: release.name,
    version: release.version,
    sha256: release.sha256,
    size: release.size,
    signedAt: rfc3339(now),
    expires: options.expiresInMs ? rfc3339(new Date(now.getTime() + options.expiresInMs)) : null,
    allowDowngrade: options.allowDowngrade === true,
  };
  return { envelope: signEnvelope(STATEMENT_TYPE, Buffer.from(JSON.stringify(statement)), key), statement };
}

/**
 * Verify `envelope` for `release` with the `trusted` keys: a trusted signature over the PAE,
 * a statement naming this tarball (sha256, size) as this release (name, version), not past
 * `expires`. The codes: _UNTRUSTED, _INVALID (no trusted signature verifies; a statement that
 * is not one), _MISMATCH, _EXPIRED. Returns the statement and the key that signed it.
 */
export function verifyRelease(
  envelope: Envelope,
  release: ReleaseFacts,
  trusted: readonly TrustedKey[],
  now: Date = new Date(),
): { statement: ReleaseStatement; keyid: string } {
  const { payload, keyid } = verifyEnvelope(envelope, STATEMENT_TYPE, trusted);
  const statement = parseStatement(payload);
  for (const field of ['sha256', 'size', 'name', 'version'] as const) {
    if (statement[field] !== release[field]) {
      throw swarmError(
        'SWARM_ERR_SIGNATURE_MISMATCH',
        `the signed statement says ${field} ${JSON.stringify(statement[field])}, the release is ${JSON.stringify(release[field])}: the signature is for another release`,
        { field, signed: statement[field], actual: release[field], keyid },
      );
    }
  }
  if (statement.expires !== null && Date.parse(statement.expires) <= now.getTime()) {
    throw swarmError('SWARM_ERR_SIGNATURE_EXPIRED', `the signature of ${statement.name} ${statement.version} expired at ${statement.expires}: sign it again`, {
      expires: statement.expires,
      keyid,
    });
  }
  return { statement, keyid };
}

/** Parse a statement; anything that is not one is SWARM_ERR_SIGNATURE_INVALID. */
export function parseStatement(payload: Buffer): ReleaseStatement {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    throw bad('it is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('it is not a JSON object');
  const s = doc as Record<string, unknown>;
  if (typeof s.name !== 'string' || typeof s.version !== 'string') throw bad('name or version is missing');
  if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) throw bad('sha256 is not 64 lowercase hex digits');
  if (typeof s.size !== 'number' || !Number.isSafeInteger(s.size) || s.size < 0) throw bad('size is not a byte count');
  if (typeof s.signedAt !== 'string' || Number.isNaN(Date.parse(s.signedAt))) throw bad('signedAt is not an RFC 3339 time');
  if (s.expires !== null && (typeof s.expires !== 'string' || Number.isNaN(Date.parse(s.expires)))) throw bad('expires is neither null nor an RFC 3339 time');
  if (typeof s.allowDowngrade !== 'boolean') throw bad('allowDowngrade is not a boolean');
  return {
    name: s.name,
    version: s.version,
    sha256: s.sha256,
    size: s.size,
    signedAt: s.signedAt,
    expires: s.expires as string | null,
    allowDowngrade: s.allowDowngrade,
  };
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function bad(why: string) {
  return swarmError('SWARM_ERR_SIGNATURE_INVALID', `the signed statement is not a release statement: ${why}`);
}
