import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCa, fingerprint, issueCertificate, normalizeFingerprint, type CertifiedKey } from '../src/index.js';
import { CA_VALIDITY_DAYS, LEAF_VALIDITY_DAYS } from '../src/certificates.js';
import { RSA_BITS } from '../src/keys.js';
import { spiffeId } from '../src/spiffe.js';
import { uriSans } from '../src/identity.js';
import { openssl, opensslText, opensslVerify } from './fixtures/openssl.js';

const TD = 'fleet.test';
const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
const DAY = 24 * 60 * 60 * 1000;

/** The `X509v3 <name>` extension block of `openssl x509 -text`: its header line and value line. */
function extension(text: string, name: string): { critical: boolean; value: string } {
  const m = new RegExp(`X509v3 ${name}:( critical)? *\\n\\s*(.*)`).exec(text);
  assert.ok(m, `no ${name} extension in:\n${text}`);
  return { critical: m[1] !== undefined, value: m[2]!.trim() };
}

describe('createCa and issueCertificate', () => {
  let dir: string;
  let ca: CertifiedKey;
  let leaves: Record<'master' | 'updater' | 'agent', CertifiedKey>;
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-pki-'));
    ca = await createCa({ trustDomain: TD });
    const addresses = ['10.0.0.5', 'web-1.example.com'];
    leaves = {
      master: await issueCertificate({ ca, trustDomain: TD, role: 'master' }),
      updater: await issueCertificate({ ca, trustDomain: TD, role: 'updater', host: 'web-1', addresses }),
      agent: await issueCertificate({ ca, trustDomain: TD, role: 'agent', host: 'web-1', addresses }),
    };
    await writeFile(file('ca.crt'), ca.certPem);
    for (const [role, leaf] of Object.entries(leaves)) await writeFile(file(`${role}.crt`), leaf.certPem);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a self-signed RSA-3072 SHA-256 CA with critical CA:true and keyCertSign/cRLSign', () => {
    const x509 = new X509Certificate(ca.certPem);
    assert.equal(x509.ca, true);
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, RSA_BITS);
    assert.ok(RSA_BITS >= 3072);
    assert.equal(opensslVerify(file('ca.crt'), file('ca.crt')), `${file('ca.crt')}: OK`);
    const text = opensslText(ca.certPem);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.deepEqual(extension(text, 'Basic Constraints'), { critical: true, value: 'CA:TRUE, pathlen:0' });
    assert.deepEqual(extension(text, 'Key Usage'), { critical: true, value: 'Certificate Sign, CRL Sign' });
    assert.match(extension(text, 'Subject Key Identifier').value, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    const lifetime = Date.parse(x509.validTo) - Date.parse(x509.validFrom);
    assert.ok(Math.abs(lifetime - CA_VALIDITY_DAYS * DAY) < DAY, `CA lifetime ${lifetime / DAY} days`);
  });

  for (const role of ['master', 'updater', 'agent'] as const) {
    it(`issues the ${role} certificate, which openssl verifies against the CA`, () => {
      assert.equal(opensslVerify(file('ca.crt'), file(`${role}.crt`)), `${file(`${role}.crt`)}: OK`);
      assert.equal(opensslVerify(file('ca.crt'), file(`${role}.crt`), 'sslclient'), `${file(`${role}.crt`)}: OK`);
      const asServer = opensslVerify(file('ca.crt'), file(`${role}.crt`), 'sslserver');
      if (role === 'master') assert.match(asServer, /unsuitable certificate purpose/);
      else assert.equal(asServer, `${file(`${role}.crt`)}: OK`);
    });
  }

  it('names each role in exactly one SPIFFE URI SAN, with a CN for people', () => {
    const expected = {
      master: { uri: spiffeId(TD, 'master'), cn: 'master' },
      updater: { uri: 'spiffe://fleet.test/host/web-1/updater', cn: 'updater@web-1' },
      agent: { uri: 'spiffe://fleet.test/host/web-1/agent', cn: 'web-1' },
    };
    for (const [role, leaf] of Object.entries(leaves)) {
      const x509 = new X509Certificate(leaf.certPem);
      const want = expected[role as keyof typeof expected];
      assert.deepEqual(uriSans(x509.subjectAltName), [want.uri], role);
      assert.match(x509.subject, new RegExp(`^CN=${want.cn}$`, 'm'), role);
      assert.match(opensslText(leaf.certPem), new RegExp(`URI:${want.uri.replaceAll('/', '\\/')}`), role);
    }
    assert.equal(spiffeId(TD, 'master'), 'spiffe://fleet.test/master');
  });

  it('writes the CN as a UTF8String, which strict parsers (Go crypto/x509) accept with its @', () => {
    // The CN attribute: OID 2.5.4.3 (06 03 55 04 03), then its value's tag: 0x0c UTF8String,
    // not 0x13 PrintableString (which cannot hold `@`).
    for (const [role, leaf] of Object.entries(leaves)) {
      const der = new X509Certificate(leaf.certPem).raw;
      const cn = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
      const subjectCn = der.lastIndexOf(cn);
      assert.ok(subjectCn > 0, role);
      assert.equal(der[subjectCn + cn.length], 0x0c, role);
    }
    assert.match(openssl(['asn1parse', '-in', file('updater.crt')]), /UTF8STRING\s*:updater@web-1/);
  });

  it('gives the master clientAuth only, and the server roles serverAuth + clientAuth', () => {
    assert.deepEqual(new X509Certificate(leaves.master.certPem).keyUsage, [EKU_CLIENT]);
    assert.equal(
      extension(opensslText(leaves.master.certPem), 'Extended Key Usage').value,
      'TLS Web Client Authentication',
    );
    for (const role of ['updater', 'agent'] as const) {
      assert.deepEqual(
        new X509Certificate(leaves[role].certPem).keyUsage?.sort(),
        [EKU_SERVER, EKU_CLIENT].sort(),
        role,
      );
      assert.equal(
        extension(opensslText(leaves[role].certPem), 'Extended Key Usage').value,
        'TLS Web Server Authentication, TLS Web Client Authentication',
      );
    }
  });

  it("puts the host's addresses plus localhost and 127.0.0.1 on server certificates only", () => {
    for (const role of ['updater', 'agent'] as const) {
      const san = extension(opensslText(leaves[role].certPem), 'Subject Alternative Name').value.split(', ').sort();
      assert.deepEqual(
        san,
        [
          `URI:spiffe://fleet.test/host/web-1/${role}`,
          'IP Address:10.0.0.5',
          'DNS:web-1.example.com',
          'DNS:localhost',
          'IP Address:127.0.0.1',
        ].sort(),
      );
    }
    assert.equal(
      extension(opensslText(leaves.master.certPem), 'Subject Alternative Name').value,
      'URI:spiffe://fleet.test/master',
    );
  });

  it('marks leaves CA:false, links them to the CA by AKI = CA SKI, and signs them with SHA-256', () => {
    const caSki = extension(opensslText(ca.certPem), 'Subject Key Identifier').value;
    for (const [role, leaf] of Object.entries(leaves)) {
      const text = opensslText(leaf.certPem);
      assert.deepEqual(extension(text, 'Basic Constraints'), { critical: true, value: 'CA:FALSE' }, role);
      assert.equal(extension(text, 'Authority Key Identifier').value.replace(/^keyid:/, ''), caSki, role);
      assert.ok(extension(text, 'Subject Key Identifier').value !== caSki, role);
      assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/, role);
      assert.equal(new X509Certificate(leaf.certPem).publicKey.asymmetricKeyDetails?.modulusLength, RSA_BITS, role);
    }
  });

  it('uses random positive serials and leaf lifetimes inside the CA lifetime', () => {
    const all = [ca, ...Object.values(leaves)].map((c) => new X509Certificate(c.certPem));
    const serials = all.map((x) => x.serialNumber);
    assert.equal(new Set(serials).size, serials.length);
    for (const s of serials) assert.match(s, /^[4-7][0-9A-F]{31}$/, 'a 128-bit positive serial');
    const caTo = Date.parse(all[0]!.validTo);
    for (const leaf of all.slice(1)) {
      const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
      assert.ok(Math.abs(lifetime - LEAF_VALIDITY_DAYS * DAY) < DAY);
      assert.ok(Date.parse(leaf.validTo) < caTo);
      assert.ok(Date.parse(leaf.validFrom) <= Date.now(), 'valid from now (backdated for clock skew)');
    }
  });

  it('pins a certificate as openssl does: SHA-256 of the DER, lowercase hex, no colons', () => {
    for (const role of Object.keys(leaves)) {
      const out = openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', file(`${role}.crt`)]);
      const pin = normalizeFingerprint(out.trim().split('=')[1]!);
      assert.equal(fingerprint(leaves[role as keyof typeof leaves].certPem), pin);
      assert.match(pin, /^[0-9a-f]{64}$/);
      const x509 = new X509Certificate(leaves[role as keyof typeof leaves].certPem);
      assert.equal(fingerprint(x509), pin);
      assert.equal(fingerprint(x509.raw), pin);
      assert.equal(normalizeFingerprint(x509.fingerprint256), pin);
    }
  });

  it('certifies a given public key without making a private key (the CSR hook)', async () => {
    const publicKeyPem = new X509Certificate(leaves.agent.certPem).publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const issued = await issueCertificate({ ca, trustDomain: TD, role: 'agent', host: 'web-2', publicKeyPem });
    assert.equal(issued.keyPem, '');
    assert.ok(new X509Certificate(issued.certPem).checkPrivateKey(createPrivateKey(leaves.agent.keyPem)));
  });

  it('refuses a host certificate without a valid host name, and a bad trust domain', async () => {
    await assert.rejects(issueCertificate({ ca, trustDomain: TD, role: 'updater' }), {
      code: 'SWARM_ERR_USAGE_INVALID',
    });
    await assert.rejects(issueCertificate({ ca, trustDomain: TD, role: 'agent', host: 'master' }), {
      code: 'SWARM_ERR_HOST_NAME_RESERVED',
    });
    await assert.rejects(issueCertificate({ ca, trustDomain: TD, role: 'agent', host: 'Web_1' }), {
      code: 'SWARM_ERR_HOST_NAME_INVALID',
    });
    await assert.rejects(createCa({ trustDomain: 'spiffe://x' }), { code: 'SWARM_ERR_USAGE_INVALID' });
  });
});
