import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCa, identityOfPeer, issueCertificate, type CertifiedKey, type Identity } from '../src/index.js';
import { opensslIssue } from './fixtures/openssl.js';

const TD = 'fleet.test';

/**
 * How OpenSSL words "not signed by a CA I trust". Which one it picks depends on whether a
 * trusted CA has the same name as the real issuer (here it does: same trust domain).
 */
const UNTRUSTED = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];

/** One end of a connection: what it presents (if anything) and which CA it trusts. */
interface End {
  readonly cert?: CertifiedKey;
  readonly caPem: string;
}

type Outcome = { ok: true; peer: Identity } | { ok: false; error: string };

/**
 * A real mutual-TLS handshake over loopback on port 0, with the settings every swarm
 * server uses (client certificate required, verified against the CA). The server answers
 * one line once the handshake is done, so the client knows the server accepted it: with
 * TLS 1.3 the client finishes its side before the server has checked the client's
 * certificate.
 */
async function handshake(
  server: End,
  client: End,
  servername = 'localhost',
): Promise<{ server: Outcome; client: Outcome }> {
  const srv = tls.createServer({
    cert: server.cert?.certPem,
    key: server.cert?.keyPem,
    ca: server.caPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const serverSide = new Promise<Outcome>((resolve) => {
    srv.on('secureConnection', (socket) => {
      try {
        resolve({ ok: true, peer: identityOfPeer(socket.getPeerCertificate(), TD) });
      } catch (err) {
        resolve({ ok: false, error: (err as { code: string }).code });
      }
      socket.end('accepted\n');
    });
    // Node destroys a connection whose client certificate fails verification and reports
    // the reason on the socket, not on the error (which is then just ECONNRESET).
    srv.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) =>
      resolve({ ok: false, error: String(socket.authorizationError ?? err.code) }),
    );
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const clientSide = new Promise<Outcome>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: (srv.address() as AddressInfo).port,
        servername,
        ca: client.caPem,
        cert: client.cert?.certPem,
        key: client.cert?.keyPem,
      });
      let peer: Identity | undefined;
      socket.on('secureConnect', () => {
        peer = identityOfPeer(socket.getPeerCertificate(), TD);
      });
      socket.on('data', (data) => {
        if (peer && data.toString() === 'accepted\n') resolve({ ok: true, peer });
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: String(err.code) }));
      socket.on('close', () => resolve({ ok: false, error: 'closed by the server' }));
    });
    return { server: await serverSide, client: await clientSide };
  } finally {
    srv.close();
  }
}

describe('mutual TLS with swarm certificates', { timeout: 60_000 }, () => {
  let dir: string;
  let caPem: string;
  let foreignCaPem: string;
  let master: CertifiedKey;
  let updater: CertifiedKey;
  let agent: CertifiedKey;
  let foreignMaster: CertifiedKey;
  let expiredMaster: CertifiedKey;
  let serverOnly: CertifiedKey;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-tls-'));
    const ca = await createCa({ trustDomain: TD });
    const foreignCa = await createCa({ trustDomain: TD });
    caPem = ca.certPem;
    foreignCaPem = foreignCa.certPem;
    master = await issueCertificate({ ca, trustDomain: TD, role: 'master' });
    updater = await issueCertificate({ ca, trustDomain: TD, role: 'updater', host: 'web-1', addresses: ['10.0.0.5'] });

    // Variants re-certify existing keys (RSA keygen is the slow part): what differs is
    // only what each test is about — issuer, validity, role, EKU.
    const spki = (keyPem: string) => createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString();
    const reuse = async (keyPem: string, options: Omit<Parameters<typeof issueCertificate>[0], 'publicKeyPem'>) => ({
      certPem: (await issueCertificate({ ...options, publicKeyPem: spki(keyPem) })).certPem,
      keyPem,
    });
    agent = await reuse(updater.keyPem, { ca, trustDomain: TD, role: 'agent', host: 'web-1' });
    // Same names as our CA's (same trust domain), different key: only the signature tells.
    foreignMaster = await reuse(master.keyPem, { ca: foreignCa, trustDomain: TD, role: 'master' });
    expiredMaster = await reuse(master.keyPem, {
      ca,
      trustDomain: TD,
      role: 'master',
      notBefore: new Date(Date.now() - 10 * 24 * 3600 * 1000),
      validityDays: 1,
    });
    // swarm never issues a serverAuth-only certificate, so openssl makes one from our CA.
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'agent.key'), agent.keyPem, { mode: 0o600 });
    serverOnly = {
      certPem: opensslIssue({
        dir,
        caCertFile: join(dir, 'ca.crt'),
        caKeyFile: join(dir, 'ca.key'),
        keyFile: join(dir, 'agent.key'),
        subject: '/CN=web-1/O=swarm',
        extensions: [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth',
          'subjectAltName=URI:spiffe://fleet.test/host/web-1/agent,DNS:localhost,IP:127.0.0.1',
        ],
      }),
      keyPem: agent.keyPem,
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('connects the master to an updater, and each side reads the other role from the URI SAN', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: master, caPem });
    assert.deepEqual(r.server, {
      ok: true,
      peer: { role: 'master', host: null, trustDomain: TD, uri: 'spiffe://fleet.test/master' },
    });
    assert.ok(r.client.ok);
    assert.deepEqual([r.client.peer.role, r.client.peer.host], ['updater', 'web-1']);
  });

  it('accepts a worker certificate as a client at the TLS layer, exposing role agent for authorization', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: agent, caPem });
    assert.ok(r.server.ok);
    assert.deepEqual([r.server.peer.role, r.server.peer.host], ['agent', 'web-1']);
  });

  it('refuses a client certificate from a foreign CA', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: foreignMaster, caPem });
    assert.ok(!r.server.ok && UNTRUSTED.includes(r.server.error), JSON.stringify(r.server));
    assert.equal(r.client.ok, false);
  });

  it('refuses a client without a certificate', async () => {
    const r = await handshake({ cert: updater, caPem }, { caPem });
    assert.deepEqual(r.server, { ok: false, error: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
    assert.equal(r.client.ok, false);
  });

  it('refuses a server-only (EKU serverAuth) certificate used as a client', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: serverOnly, caPem });
    assert.deepEqual(r.server, { ok: false, error: 'INVALID_PURPOSE' });
    assert.equal(r.client.ok, false);
  });

  it('refuses an expired client certificate', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: expiredMaster, caPem });
    assert.deepEqual(r.server, { ok: false, error: 'CERT_HAS_EXPIRED' });
    assert.equal(r.client.ok, false);
  });

  it("refuses the master's certificate as a server certificate (EKU clientAuth only)", async () => {
    const r = await handshake({ cert: master, caPem }, { cert: updater, caPem });
    assert.deepEqual(r.client, { ok: false, error: 'INVALID_PURPOSE' });
    assert.equal(r.server.ok, false);
  });

  it('refuses, as a client, a server of another CA', async () => {
    const r = await handshake({ cert: updater, caPem }, { cert: master, caPem: foreignCaPem });
    assert.ok(!r.client.ok && UNTRUSTED.includes(r.client.error), JSON.stringify(r.client));
    assert.equal(r.server.ok, false);
  });

  it('checks the server name against the DNS/IP SANs', async () => {
    assert.ok((await handshake({ cert: updater, caPem }, { cert: master, caPem }, 'localhost')).client.ok);
    const r = await handshake({ cert: updater, caPem }, { cert: master, caPem }, 'db-1.example.com');
    assert.deepEqual(r.client, { ok: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});
