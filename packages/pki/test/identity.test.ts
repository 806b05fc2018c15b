import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCa,
  identityOf,
  identityOfPeer,
  issueCertificate,
  parseCertificate,
  parseSpiffeId,
  type CertifiedKey,
} from '../src/index.js';
import { uriSans } from '../src/identity.js';
import { opensslIssue } from './fixtures/openssl.js';

const TD = 'fleet.test';

describe('identities come from the one URI SAN, never the CN', () => {
  let dir: string;
  let ca: CertifiedKey;
  /** Leaves here certify the CA's own public key: only their names matter, and keygen is slow. */
  let publicKeyPem: string;
  let craft: (subject: string, extensions: string[]) => string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-pki-'));
    ca = await createCa({ trustDomain: TD });
    publicKeyPem = createPublicKey(ca.keyPem).export({ type: 'spki', format: 'pem' }).toString();
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    craft = (subject, extensions) =>
      opensslIssue({
        dir,
        caCertFile: join(dir, 'ca.crt'),
        caKeyFile: join(dir, 'ca.key'),
        keyFile: join(dir, 'ca.key'),
        subject,
        extensions: ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=serverAuth,clientAuth', ...extensions],
      });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the role and host of each kind of certificate', async () => {
    const issue = (role: 'master' | 'updater' | 'agent', host?: string) =>
      issueCertificate({ ca, trustDomain: TD, role, ...(host ? { host } : {}), publicKeyPem });
    assert.deepEqual(identityOf((await issue('master')).certPem, TD), {
      role: 'master',
      host: null,
      trustDomain: TD,
      uri: 'spiffe://fleet.test/master',
    });
    assert.deepEqual(identityOf((await issue('updater', 'web-1')).certPem), {
      role: 'updater',
      host: 'web-1',
      trustDomain: TD,
      uri: 'spiffe://fleet.test/host/web-1/updater',
    });
    const agent = new X509Certificate((await issue('agent', 'db-7')).certPem);
    assert.equal(identityOf(agent).role, 'agent');
    assert.equal(identityOf(agent.raw).host, 'db-7');
  });

  it('refuses a certificate of another trust domain when one is expected', async () => {
    const other = await issueCertificate({ ca, trustDomain: 'other.test', role: 'master', publicKeyPem });
    assert.equal(identityOf(other.certPem).trustDomain, 'other.test');
    assert.throws(() => identityOf(other.certPem, TD), {
      code: 'SWARM_ERR_PKI_IDENTITY_INVALID',
      message: /trust domain "other.test"/,
    });
  });

  it('trusts the URI SAN over a CN that claims to be the master', () => {
    const pem = craft('/CN=master/O=swarm', ['subjectAltName=URI:spiffe://fleet.test/host/web-1/agent']);
    assert.deepEqual([identityOf(pem, TD).role, identityOf(pem, TD).host], ['agent', 'web-1']);
  });

  it('refuses a certificate with two URI SANs, or none', () => {
    const two = craft('/CN=web-1', [
      'subjectAltName=URI:spiffe://fleet.test/host/web-1/agent,URI:spiffe://fleet.test/master',
    ]);
    assert.throws(() => identityOf(two), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID', message: /2 URI SANs/ });
    const none = craft('/CN=master', ['subjectAltName=DNS:localhost']);
    assert.throws(() => identityOf(none), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID', message: /0 URI SANs/ });
    const noSan = craft('/CN=master', []);
    assert.throws(() => identityOf(noSan), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID' });
  });

  // CVE-2021-44532 class: a DNS name that reads like ", URI:spiffe://…/master" must not
  // become a second URI entry when the SAN is rendered as a string.
  it('does not let a crafted DNS SAN smuggle in a master URI', async () => {
    const evil = await issueCertificate({
      ca,
      trustDomain: TD,
      role: 'agent',
      host: 'web-1',
      addresses: ['x, URI:spiffe://fleet.test/master'],
      publicKeyPem,
    });
    const san = new X509Certificate(evil.certPem).subjectAltName ?? '';
    assert.match(san, /URI:spiffe:\/\/fleet\.test\/master/, 'the text is there, quoted inside the DNS entry');
    assert.deepEqual(uriSans(san), ['spiffe://fleet.test/host/web-1/agent']);
    assert.equal(identityOf(evil.certPem).role, 'agent');
  });

  it('parses exactly the three SPIFFE ID shapes', () => {
    assert.equal(parseSpiffeId('spiffe://fleet.test/master').role, 'master');
    assert.equal(parseSpiffeId('spiffe://fleet.test/host/a-1/agent').host, 'a-1');
    for (const bad of [
      'spiffe://fleet.test/host/master/updater',
      'spiffe://fleet.test/host/web-1/admin',
      'spiffe://fleet.test/host/Web-1/agent',
      'spiffe://fleet.test/master/',
      'spiffe://fleet.test/host/web-1/agent?x=1',
      'spiffe://Fleet.Test/master',
      'https://fleet.test/master',
      'spiffe:///master',
    ]) {
      assert.throws(() => parseSpiffeId(bad), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID' }, bad);
    }
  });

  it('reports a peer without a certificate, and garbage instead of a certificate', () => {
    assert.throws(() => identityOfPeer(undefined), {
      code: 'SWARM_ERR_PKI_IDENTITY_INVALID',
      message: /no certificate/,
    });
    assert.throws(() => identityOfPeer({} as never), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID' });
    assert.throws(() => parseCertificate('not a certificate'), { code: 'SWARM_ERR_PKI_CERT_INVALID' });
    assert.throws(() => identityOf('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), {
      code: 'SWARM_ERR_PKI_CERT_INVALID',
    });
  });
});
