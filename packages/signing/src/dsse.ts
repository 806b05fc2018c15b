import { sign, verify } from 'node:crypto';
import { swarmError } from '@swarm/errors';
import type { SigningKey, TrustedKey } from './release-keys.js';

/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, v1.0): a payload, its type, and
 * signatures over the pre-authentication encoding of both — never over the bare payload, so a
 * signature cannot be moved to a payload of another type.
 */
export interface Envelope {
  readonly payloadType: string;
  /** Standard base64 of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/** The largest envelope read (SPEC §12): a statement and a handful of signatures fit in far less. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/** `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** Sign `payload`: a new envelope, or `into` with one more signature (same type and payload). */
export function signEnvelope(payloadType: string, payload: Buffer, key: SigningKey, into?: Envelope): Envelope {
  if (into && (into.payloadType !== payloadType || into.payload !== payload.toString('base64'))) {
    throw swarmError('SWARM_ERR_USAGE_INVALID', 'the existing envelope signs another statement: sign that tarball, or write a new envelope with -o');
  }
  const sig = sign(null, pae(payloadType, payload), key.key).toString('base64');
  const others = (into?.signatures ?? []).filter((s) => s.keyid !== key.keyid);
  return { payloadType, payload: payload.toString('base64'), signatures: [...others, { keyid: key.keyid, sig }] };
}

/**
 * Parse an envelope: at most {@link MAX_ENVELOPE_BYTES}, JSON with a string `payloadType`, a
 * base64 `payload` and a non-empty list of `{ keyid, sig }`. Anything else is
 * SWARM_ERR_SIGNATURE_INVALID saying what is wrong.
 */
export function parseEnvelope(bytes: Buffer | string): Envelope {
  const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (length > MAX_ENVELOPE_BYTES) {
    throw invalid(`the signature envelope is ${length} bytes, over the ${MAX_ENVELOPE_BYTES}-byte cap`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString());
  } catch {
    throw invalid('the signature envelope is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('the signature envelope is not a JSON object');
  const { payloadType, payload, signatures } = doc as Record<string, unknown>;
  if (typeof payloadType !== 'string') throw invalid('the envelope has no payloadType');
  if (typeof payload !== 'string' || !BASE64.test(payload)) throw invalid('the envelope payload is not base64');
  if (!Array.isArray(signatures) || signatures.length === 0) throw invalid('the envelope carries no signature');
  const sigs = signatures.map((s, i) => {
    const entry = s as Record<string, unknown> | null;
    if (!entry || typeof entry.sig !== 'string' || !BASE64.test(entry.sig)) throw invalid(`signatures[${i}] has no base64 sig`);
    return { keyid: typeof entry.keyid === 'string' ? entry.keyid : '', sig: entry.sig };
  });
  return { payloadType, payload, signatures: sigs };
}

/**
 * The payload of `envelope` if at least one of its signatures verifies, over the PAE, with a
 * trusted key: SWARM_ERR_SIGNATURE_UNTRUSTED when no signature names a trusted key,
 * SWARM_ERR_SIGNATURE_INVALID when those that do do not verify (or the type is not
 * `payloadType`). One valid trusted signature suffices; the others are not looked at further.
 */
export function verifyEnvelope(
  envelope: Envelope,
  payloadType: string,
  trusted: readonly TrustedKey[],
): { payload: Buffer; keyid: string } {
  if (envelope.payloadType !== payloadType) {
    throw invalid(`the envelope's payloadType is ${JSON.stringify(envelope.payloadType.slice(0, 100))}, not ${payloadType}`);
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  let namedTrusted = false;
  for (const signature of envelope.signatures) {
    // A signature without a matching keyid is tried against every trusted key (keyid is a hint in DSSE).
    const candidates = trusted.filter((k) => signature.keyid === '' || k.keyid === signature.keyid);
    if (candidates.length > 0 && signature.keyid !== '') namedTrusted = true;
    for (const candidate of candidates) {
      if (verify(null, message, candidate.key, Buffer.from(signature.sig, 'base64'))) {
        return { payload, keyid: candidate.keyid };
      }
    }
  }
  if (!namedTrusted) {
    const ids = envelope.signatures.map((s) => s.keyid || '(no keyid)').join(', ');
    throw swarmError(
      'SWARM_ERR_SIGNATURE_UNTRUSTED',
      `the release is signed by ${ids}, none of which this host trusts (trusted: ${trusted.map((k) => k.keyid).join(', ') || 'none'})`,
      { keyids: envelope.signatures.map((s) => s.keyid) },
    );
  }
  throw invalid('no signature by a trusted key verifies over the statement (tampered payload, or not a DSSE signature)');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(why: string) {
  return swarmError('SWARM_ERR_SIGNATURE_INVALID', why);
}
