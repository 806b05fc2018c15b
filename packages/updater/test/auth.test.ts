import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PackResult } from '@swarm/bundle';
import { issueCertificate, type CertifiedKey } from '@swarm/pki';
import { call } from './helpers/https-client.js';
import { killSeenAgents, readJournal, releaseDirs, startTestUpdater, type TestUpdater } from './helpers/harness.js';
import { openRequest } from './helpers/open-request.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';

let fx: PkiFixture;
let u: TestUpdater;
let v1: PackResult;

before(async () => {
  fx = await createPkiFixture({ others: true });
  v1 = await buildRelease(join(fx.root, 'releases'), { version: '1.0.0' });
  u = await startTestUpdater(fx);
});

after(async () => {
  await u?.close().catch(() => undefined);
  killSeenAgents();
  await fx?.cleanup();
});

describe('roles (URI SAN, checked before the body is read)', () => {
  const wrongRoles: [string, () => CertifiedKey][] = [
    ["this host's agent", () => fx.h1Agent],
    ["another host's updater", () => fx.h2Updater!],
    ["this host's own updater", () => fx.h1Updater],
  ];
  for (const [who, client] of wrongRoles) {
    it(`${who} calling POST /update → 403 AUTH_FORBIDDEN while its body is still in flight, connection closed`, async () => {
      const open = openRequest({
        port: u.port,
        caPem: fx.ca.certPem,
        client: client(),
        path: '/update',
        headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': 50 * 1024 * 1024 },
      });
      open.req.write(`--b\r\nContent-Disposition: form-data; name="sha256"\r\n\r\n${v1.sha256}\r\n`);
      const answer = await open.answer; // the body is 50 MiB short: the 403 cannot have waited for it
      assert.equal(answer.status, 403, answer.text);
      assert.equal(answer.body.code, 'SWARM_ERR_AUTH_FORBIDDEN');
      assert.equal(answer.body.required, 'master');
      assert.equal(answer.headers.connection, 'close');
      await open.closed;
      assert.deepEqual(await releaseDirs(u.installDir), [], 'nothing was staged');
    });
  }

  it("the agent's certificate may read /health but not /releases, /rollback or /update-self", async () => {
    const health = await u.call('/health', { client: fx.h1Agent });
    assert.equal(health.status, 200);
    assert.equal(health.body.role, 'updater');
    for (const [method, path] of [
      ['GET', '/releases'],
      ['POST', '/rollback'],
      ['POST', '/update-self'],
    ] as const) {
      const res = await u.call(path, { method, client: fx.h1Agent });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.body.code, 'SWARM_ERR_AUTH_FORBIDDEN');
    }
    assert.equal(
      (await u.call('/health', { client: fx.h2Updater! })).status,
      200,
      'any certificate of the CA reads /health',
    );
  });

  it('a certificate of our CA for another trust domain reads /health (any certificate of the CA) and nothing else', async () => {
    // Certify an existing key for the other trust domain: no RSA generation.
    const publicKeyPem = createPublicKey(fx.h1Agent.keyPem).export({ type: 'spki', format: 'pem' }) as string;
    const issued = await issueCertificate({ ca: fx.ca, trustDomain: 'elsewhere.test', role: 'master', publicKeyPem });
    const stranger: CertifiedKey = { certPem: issued.certPem, keyPem: fx.h1Agent.keyPem };
    const health = await u.call('/health', { client: stranger });
    assert.equal(health.status, 200, health.text);
    assert.equal(health.body.role, 'updater');
    for (const [method, path] of [
      ['GET', '/releases'],
      ['POST', '/rollback'],
    ] as const) {
      const res = await u.call(path, { method, client: stranger });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.body.code, 'SWARM_ERR_PKI_IDENTITY_INVALID');
      assert.match(res.body.message, /trust domain "elsewhere\.test"/);
    }
    // A push is refused before its body is read, like any other wrong caller.
    const open = openRequest({
      port: u.port,
      caPem: fx.ca.certPem,
      client: stranger,
      path: '/update',
      headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': 50 * 1024 * 1024 },
    });
    open.req.write(`--b\r\nContent-Disposition: form-data; name="sha256"\r\n\r\n${v1.sha256}\r\n`);
    const answer = await open.answer;
    assert.equal(answer.status, 403, answer.text);
    assert.equal(answer.body.code, 'SWARM_ERR_PKI_IDENTITY_INVALID');
    await open.closed;
  });

  it('the master may do everything; an unknown route is 404 UPDATER_NOT_FOUND', async () => {
    assert.equal((await u.call('/releases')).status, 200);
    const missing = await u.call('/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'SWARM_ERR_UPDATER_NOT_FOUND');
    // RFC 9110 §15.5.6: a known path with another method is 405 with Allow, not 404.
    const wrongMethod = await u.call('/update', { method: 'GET' });
    assert.equal(wrongMethod.status, 405, wrongMethod.text);
    assert.equal(wrongMethod.body.code, 'SWARM_ERR_UPDATER_METHOD_NOT_ALLOWED');
    assert.equal(wrongMethod.headers.allow, 'POST');
    const health = await u.call('/health', { method: 'DELETE' });
    assert.equal(health.status, 405, health.text);
    assert.match(String(health.headers.allow), /\bGET\b/);
    const push = await u.push(v1);
    assert.equal(push.status, 200, push.text);
    assert.equal((await readJournal(u.installDir)).active.id, push.body.release.id);
  });
});

describe('TLS refusals (no route runs)', () => {
  const refused: [string, () => CertifiedKey | undefined][] = [
    ['no client certificate', () => undefined],
    ['a master certificate of a foreign CA', () => fx.foreignMaster],
    ['an expired master certificate', () => fx.expiredMaster],
  ];
  for (const [what, client] of refused) {
    it(`${what} → the handshake is refused`, async () => {
      const key = client();
      await assert.rejects(
        call({ port: u.port, path: '/health', caPem: fx.ca.certPem, ...(key ? { client: key } : {}) }),
        (err: NodeJS.ErrnoException) => {
          // TLS 1.3: the client learns of the refusal as an alert or a reset, never as an HTTP answer.
          assert.match(String(err.code ?? err.message), /ECONNRESET|EPIPE|ERR_SSL|alert|socket hang up/i);
          return true;
        },
      );
    });
  }

  it('the updater proves itself with its own certificate (the client verifies it against the CA)', async () => {
    const res = await call({ port: u.port, path: '/health', caPem: fx.ca.certPem, client: fx.master });
    assert.equal(res.status, 200);
    await assert.rejects(
      call({ port: u.port, path: '/health', caPem: fx.foreignMaster!.certPem, client: fx.master }),
      /self.signed|unable to verify|certificate/i,
    );
  });
});
