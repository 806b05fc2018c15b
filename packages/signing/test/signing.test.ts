import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSwarmError } from '@swarm/errors';
import {
  MAX_ENVELOPE_BYTES,
  STATEMENT_TYPE,
  generateReleaseKeys,
  keyIdOf,
  pae,
  parseEnvelope,
  readSigningKey,
  readTrustedKeys,
  signRelease,
  verifyRelease,
  type Envelope,
  type SigningKey,
  type TrustedKey,
} from '../src/index.js';

const coded = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(isSwarmError(err), String(err));
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};
const release = { name: 'web', version: '1.2.3', sha256: 'a'.repeat(64), size: 1234 };

describe('release keys', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-signing-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('swarm keygen writes release.key (PKCS#8, 0600) and release.pub (SPKI); the key id is SHA-256 of the SPKI DER, 16 hex', async () => {
    const out = join(dir, 'keys');
    const made = await generateReleaseKeys(out);
    assert.equal((await stat(made.keyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(out)).mode & 0o777, 0o700);
    const keyPem = await readFile(made.keyFile, 'utf8');
    const pubPem = await readFile(made.pubFile, 'utf8');
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(pubPem, /^-----BEGIN PUBLIC KEY-----/);
    const der = createPublicKey(pubPem).export({ type: 'spki', format: 'der' });
    assert.equal(made.keyid, createHash('sha256').update(der).digest('hex').slice(0, 16));
    assert.equal((await readSigningKey(made.keyFile)).keyid, made.keyid);
    const [trusted] = await readTrustedKeys(made.pubFile);
    assert.equal(trusted?.keyid, made.keyid);
    await assert.rejects(generateReleaseKeys(out), coded('SWARM_ERR_USAGE_INVALID', /never overwrites/));
  });

  it('refuses a signing key that is not Ed25519, and --trusted-keys that hold nothing usable', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(join(dir, 'rsa.key'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await assert.rejects(readSigningKey(join(dir, 'rsa.key')), coded('SWARM_ERR_USAGE_INVALID', /rsa key; release keys are Ed25519/));
    await assert.rejects(readSigningKey(join(dir, 'nope.key')), coded('SWARM_ERR_USAGE_INVALID', /cannot be read/));
    await mkdir(join(dir, 'empty'));
    await assert.rejects(readTrustedKeys(join(dir, 'empty')), coded('SWARM_ERR_CONFIG_INVALID', /holds no .pub file/));
    await writeFile(join(dir, 'bad.pub'), 'not a key');
    await assert.rejects(readTrustedKeys(join(dir, 'bad.pub')), coded('SWARM_ERR_CONFIG_INVALID', /not a PEM public key/));
    await writeFile(join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    await assert.rejects(readTrustedKeys(join(dir, 'rsa.pub')), coded('SWARM_ERR_CONFIG_INVALID', /not Ed25519/));
  });

  it('reads every .pub of a --trusted-keys directory', async () => {
    const keys = join(dir, 'trusted');
    await mkdir(keys);
    for (const name of ['a', 'b']) {
      const { publicKey } = generateKeyPairSync('ed25519');
      await writeFile(join(keys, `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }) as string);
    }
    await writeFile(join(keys, 'README'), 'ignored');
    assert.equal((await readTrustedKeys(keys)).length, 2);
  });
});

describe('DSSE', () => {
  it("PAE is DSSE's: DSSEv1 SP len(type) SP type SP len(body) SP body, in bytes", () => {
    // The example of the DSSE protocol document.
    assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    assert.equal(pae('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é', 'lengths count bytes, not characters');
  });

  it('refuses an envelope over 64 KiB before parsing it, and one that is truncated or not JSON', () => {
    assert.throws(() => parseEnvelope(Buffer.alloc(10 * 1024 * 1024, 0x20)), coded('SWARM_ERR_SIGNATURE_INVALID', /over the 65536-byte cap/));
    assert.throws(() => parseEnvelope(Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x20)), coded('SWARM_ERR_SIGNATURE_INVALID'));
    assert.throws(() => parseEnvelope('{"payloadType": "x", "payl'), coded('SWARM_ERR_SIGNATURE_INVALID', /not JSON/));
    assert.throws(() => parseEnvelope('[]'), coded('SWARM_ERR_SIGNATURE_INVALID', /not a JSON object/));
    assert.throws(() => parseEnvelope('{"payloadType":"x","payload":"aGk=","signatures":[]}'), coded('SWARM_ERR_SIGNATURE_INVALID', /no signature/));
    assert.throws(() => parseEnvelope('{"payloadType":"x","payload":"not base64!","signatures":[{"sig":"aGk="}]}'), coded('SWARM_ERR_SIGNATURE_INVALID', /not base64/));
  });
});

describe('signed release statements', () => {
  let signer: SigningKey;
  let other: SigningKey;
  let trusted: TrustedKey[];
  before(() => {
    const make = (): SigningKey => {
      const { privateKey } = generateKeyPairSync('ed25519');
      return { key: privateKey, keyid: keyIdOf(privateKey) };
    };
    signer = make();
    other = make();
    trusted = [{ keyid: signer.keyid, key: createPublicKey(signer.key), source: 'test' }];
  });
  const roundTrip = (e: Envelope) => parseEnvelope(JSON.stringify(e));

  it('a statement signed by a trusted key verifies for its release, and says who signed it', () => {
    const { envelope, statement } = signRelease(release, signer, { now: new Date('2026-12-07T10:00:00.123Z') });
    assert.equal(envelope.payloadType, STATEMENT_TYPE);
    assert.deepEqual(Object.keys(envelope), ['payloadType', 'payload', 'signatures']);
    assert.deepEqual(statement, { ...release, signedAt: '2026-12-07T10:00:00Z', expires: null, allowDowngrade: false });
    const verified = verifyRelease(roundTrip(envelope), release, trusted);
    assert.equal(verified.keyid, signer.keyid);
    assert.deepEqual(verified.statement, statement);
  });

  it('an untrusted key: SWARM_ERR_SIGNATURE_UNTRUSTED naming it', () => {
    const { envelope } = signRelease(release, other);
    assert.throws(() => verifyRelease(envelope, release, trusted), coded('SWARM_ERR_SIGNATURE_UNTRUSTED', new RegExp(other.keyid)));
  });

  it('a tampered payload, and a signature over the raw payload without PAE: SWARM_ERR_SIGNATURE_INVALID', () => {
    const { envelope } = signRelease(release, signer);
    const forged = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as Record<string, unknown>;
    forged.version = '9.9.9';
    const tampered = { ...envelope, payload: Buffer.from(JSON.stringify(forged)).toString('base64') };
    assert.throws(() => verifyRelease(tampered, { ...release, version: '9.9.9' }, trusted), coded('SWARM_ERR_SIGNATURE_INVALID'));
    const raw = Buffer.from(envelope.payload, 'base64');
    const naive = { ...envelope, signatures: [{ keyid: signer.keyid, sig: sign(null, raw, signer.key).toString('base64') }] };
    assert.throws(() => verifyRelease(naive, release, trusted), coded('SWARM_ERR_SIGNATURE_INVALID'));
    assert.throws(() => verifyRelease({ ...envelope, payloadType: 'text/plain' }, release, trusted), coded('SWARM_ERR_SIGNATURE_INVALID', /payloadType/));
  });

  it('a valid signature over another digest, size, name or version: SWARM_ERR_SIGNATURE_MISMATCH naming the field', () => {
    const { envelope } = signRelease(release, signer);
    for (const [field, value] of [
      ['sha256', 'b'.repeat(64)],
      ['size', 4321],
      ['name', 'api'],
      ['version', '1.2.4'],
    ] as const) {
      assert.throws(() => verifyRelease(envelope, { ...release, [field]: value }, trusted), coded('SWARM_ERR_SIGNATURE_MISMATCH', new RegExp(`says ${field}`)));
    }
  });

  it('an expired statement: SWARM_ERR_SIGNATURE_EXPIRED; before its expiry it verifies', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    const { envelope, statement } = signRelease(release, signer, { now, expiresInMs: 3_600_000, allowDowngrade: true });
    assert.equal(statement.expires, '2026-12-07T11:00:00Z');
    assert.equal(statement.allowDowngrade, true);
    assert.doesNotThrow(() => verifyRelease(envelope, release, trusted, new Date('2026-12-07T10:59:59Z')));
    assert.throws(() => verifyRelease(envelope, release, trusted, new Date('2026-12-07T11:00:00Z')), coded('SWARM_ERR_SIGNATURE_EXPIRED', /expired at 2026-12-07T11:00:00Z/));
  });

  it('two signatures, one garbage and one valid: accepted (one valid trusted signature suffices)', () => {
    const { envelope } = signRelease(release, signer);
    const garbage = { keyid: signer.keyid, sig: Buffer.alloc(64, 1).toString('base64') };
    const both = roundTrip({ ...envelope, signatures: [garbage, ...envelope.signatures] });
    assert.equal(verifyRelease(both, release, trusted).keyid, signer.keyid);
  });

  it('a second swarm sign adds its signature to the same statement; an envelope of another tarball is refused', () => {
    const first = signRelease(release, other).envelope;
    const second = signRelease(release, signer, { into: first }).envelope;
    assert.equal(second.payload, first.payload, 'the statement is kept byte for byte');
    assert.deepEqual(second.signatures.map((s) => s.keyid), [other.keyid, signer.keyid]);
    assert.equal(verifyRelease(second, release, trusted).keyid, signer.keyid);
    assert.throws(() => signRelease({ ...release, sha256: 'c'.repeat(64) }, signer, { into: first }), coded('SWARM_ERR_USAGE_INVALID', /not this tarball/));
  });

  it('a payload that is not a statement: SWARM_ERR_SIGNATURE_INVALID', () => {
    const { envelope } = signRelease(release, signer);
    const body = Buffer.from('{"name":"web"}');
    const sig = sign(null, pae(STATEMENT_TYPE, body), signer.key).toString('base64');
    const notStatement = { ...envelope, payload: body.toString('base64'), signatures: [{ keyid: signer.keyid, sig }] };
    assert.throws(() => verifyRelease(notStatement, release, trusted), coded('SWARM_ERR_SIGNATURE_INVALID', /not a release statement/));
  });
});
