import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { registryTrust } from '../src/trust-store.js';
import { makeFakePki, type FakePki } from './fixtures/fake-registry.js';

describe('the CAs a registry is verified against', () => {
  let dir: string;
  let pki: FakePki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-trust-'));
    pki = await makeFakePki();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("holds Node's roots, the system bundle, NODE_EXTRA_CA_CERTS and --registry-ca", async () => {
    const system = join(dir, 'system.pem');
    const extra = join(dir, 'extra.pem');
    await writeFile(system, '-----BEGIN CERTIFICATE-----\nSYSTEM\n-----END CERTIFICATE-----\n');
    await writeFile(extra, pki.caPem);
    const trust = registryTrust('REGISTRY-CA', { SSL_CERT_FILE: system, NODE_EXTRA_CA_CERTS: extra });
    for (const root of tls.rootCertificates.slice(0, 5)) assert.ok(trust.includes(root));
    const hasSystemApi = typeof (tls as { getCACertificates?: unknown }).getCACertificates === 'function';
    // Node 20 has no API for the system store: the bundle file is read (SSL_CERT_FILE first).
    if (!hasSystemApi) assert.ok(trust.some((p) => p.includes('SYSTEM')), 'the system bundle is read');
    assert.ok(trust.includes(pki.caPem), 'NODE_EXTRA_CA_CERTS is read');
    assert.equal(trust.at(-1), 'REGISTRY-CA', '--registry-ca comes last');
  });

  it('a bundle that cannot be read adds nothing and fails nothing', () => {
    const trust = registryTrust(undefined, { SSL_CERT_FILE: join(dir, 'missing.pem'), NODE_EXTRA_CA_CERTS: join(dir, 'missing-too.pem') });
    assert.ok(trust.length >= tls.rootCertificates.length);
    assert.ok(!trust.includes('REGISTRY-CA'));
  });
});

describe('the TLS context of registry clients', () => {
  it('is built once for the same trust and again when --registry-ca changes', async () => {
    const { registrySecureContext } = await import('../src/trust-store.js');
    const pki = await makeFakePki();
    const a = registrySecureContext(pki.caPem, {});
    assert.equal(registrySecureContext(pki.caPem, {}), a, 'the same trust: the same context');
    const other = registrySecureContext(undefined, {});
    assert.notEqual(other, a, 'another --registry-ca: another context');
  });
});
