import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasCode, type SwarmError } from '@swarm/errors';
import { createUpdaterClient, type UpdaterClient, type UpdaterTarget } from '../src/index.js';
import { makeFullPki, type FullTestPki } from './fixtures/pki.js';
import { healthBody, json, startUpdaterStub, type UpdaterStub } from './fixtures/updater-stub.js';

/** Run `fn`, which must reject with a swarm error of `code`; return that error. */
async function rejectsWith(fn: () => Promise<unknown>, code: string): Promise<SwarmError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(hasCode(err, code as never), `expected ${code}, got ${(err as { code?: string }).code}: ${(err as Error).message}`);
    return err as SwarmError;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

describe('pinned mTLS to the updater', () => {
  let pki: FullTestPki;
  let client: UpdaterClient;
  const stubs: UpdaterStub[] = [];
  const target = (stub: UpdaterStub, pin: string | null = pki.pin): UpdaterTarget => ({
    host: 'h1',
    address: '127.0.0.1',
    port: stub.port,
    pin,
  });
  const stub = async (options: Partial<Parameters<typeof startUpdaterStub>[0]> = {}): Promise<UpdaterStub> => {
    const s = await startUpdaterStub({
      caPem: pki.ca.certPem,
      cert: pki.updater,
      handler: (_req, res) => json(res, 200, healthBody()),
      ...options,
    });
    stubs.push(s);
    return s;
  };

  before(async () => {
    pki = await makeFullPki();
    client = createUpdaterClient(pki.master, { connectTimeoutMs: 2_000 });
  });
  after(async () => {
    await client.close();
    await Promise.all(stubs.map((s) => s.close()));
  });

  it('reads /health from the pinned updater, presenting the master certificate', async () => {
    const s = await stub({
      handler: (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        json(res, 200, healthBody({ seenClient: peer.subject?.CN, lastUpdate: undefined }));
      },
    });
    const health = await client.health(target(s));
    assert.equal(health.role, 'updater');
    assert.equal(health.host, 'h1');
    assert.equal(health.agent.pid, 4242);
    assert.equal(health.active?.version, '1.0.0');
    assert.equal(health.lastUpdate, null, 'an absent report is normalized to null');
    assert.equal((health as unknown as { seenClient: string }).seenClient, 'master');
  });

  it('checks the pin on every request: each runs on its own freshly verified connection', async () => {
    const s = await stub();
    await client.health(target(s));
    await client.health(target(s));
    assert.equal(s.tlsConnections, 2, 'no connection reuse');
    assert.equal(s.requests, 2);
    // The updater is re-enrolled under the master's feet: the very next request must see it.
    s.server.setSecureContext({ ca: pki.ca.certPem, cert: pki.reEnrolled.certPem, key: pki.reEnrolled.keyPem });
    await rejectsWith(() => client.health(target(s)), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
    assert.equal(s.requests, 2, 'the request was never written on the mismatching connection');
  });

  it('refuses an updater whose certificate is not the pinned one, before sending the request', async () => {
    const s = await stub({ cert: pki.reEnrolled });
    const err = await rejectsWith(() => client.health(target(s)), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
    assert.match(err.message, /does not match its pin/);
    assert.equal(err.details.host, 'h1');
    assert.equal(err.details.expectedPin, pki.pin);
    assert.ok(s.tcpConnections >= 1, 'the client did connect and handshake');
    assert.equal(s.requests, 0, 'the updater received no request');
  });

  it('fails closed without a pin: no connection is even attempted', async () => {
    const s = await stub();
    for (const pin of [null, '', 'not-a-fingerprint']) {
      const err = await rejectsWith(() => client.health(target(s, pin)), 'SWARM_ERR_CLIENT_PIN_MISSING');
      assert.equal(err.details.host, 'h1');
    }
    assert.equal(s.tcpConnections, 0);
  });

  it('accepts a pin written the openssl way (upper case, colons)', async () => {
    const s = await stub();
    const openssl = pki.pin.toUpperCase().match(/../g)!.join(':');
    assert.equal((await client.health(target(s, openssl))).role, 'updater');
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`reports "the worker rejected our certificate" when the worker does not trust us (${maxVersion})`, async () => {
      const s = await stub({ maxVersion });
      // A master certificate from another CA that still trusts the worker's CA: the handshake
      // gets as far as the worker judging our certificate, and the worker refuses it.
      const rejected = createUpdaterClient({ ...pki.foreignMaster, caPem: pki.ca.certPem }, { connectTimeoutMs: 2_000 });
      try {
        const err = await rejectsWith(() => rejected.health(target(s)), 'SWARM_ERR_CLIENT_CERT_REJECTED');
        assert.match(err.message, /the worker rejected our certificate/);
        assert.equal(err.details.host, 'h1');
        assert.ok(s.tcpConnections >= 1);
        assert.equal(s.requests, 0, 'no request was written');
      } finally {
        await rejected.close();
      }
    });
  }

  it('a master home of another CA (wrong --home) fails on the worker certificate, sending nothing', async () => {
    const s = await stub();
    const foreign = createUpdaterClient(pki.foreignMaster, { connectTimeoutMs: 2_000 });
    try {
      const err = await rejectsWith(() => foreign.health(target(s)), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
      assert.match(err.message, /not from this master's CA/);
      assert.equal(s.requests, 0);
    } finally {
      await foreign.close();
    }
  });

  it("refuses a worker whose certificate is not from this master's CA", async () => {
    const s = await stub({ cert: pki.foreignUpdater });
    const err = await rejectsWith(() => client.health(target(s)), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
    assert.match(err.message, /not from this master's CA/);
    assert.equal(err.details.host, 'h1');
    assert.equal(s.requests, 0);
  });

  it('keeps hostname verification on: the pinned certificate is refused at an address it does not name', async () => {
    // All of 127/8 is loopback on Linux; the updater certificate names 127.0.0.1 and localhost only.
    const s = await stub({ host: '127.0.0.2' });
    const err = await rejectsWith(() => client.health({ ...target(s), address: '127.0.0.2' }), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
    assert.match(err.message, /not issued for the address/);
    assert.equal(s.requests, 0);
  });

  it('fails fast with UNREACHABLE when nothing listens', { timeout: 10_000 }, async () => {
    const s = await stub();
    const port = s.port;
    await s.close();
    stubs.splice(stubs.indexOf(s), 1);
    const slowClient = createUpdaterClient(pki.master, { connectTimeoutMs: 60_000 });
    try {
      const err = await rejectsWith(() => slowClient.health({ host: 'h1', address: '127.0.0.1', port, pin: pki.pin }), 'SWARM_ERR_CLIENT_UNREACHABLE');
      assert.equal(err.details.port, port);
      assert.equal(err.details.reason, 'ECONNREFUSED');
    } finally {
      await slowClient.close();
    }
  });

  it('reports UNREACHABLE when the connect timeout expires', { timeout: 10_000 }, async () => {
    // A TCP listener that never speaks TLS: the handshake hangs until the connect budget ends.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const quick = createUpdaterClient(pki.master, { connectTimeoutMs: 300 });
    try {
      const err = await rejectsWith(() => quick.health({ host: 'h1', address: '127.0.0.1', port, pin: pki.pin }), 'SWARM_ERR_CLIENT_UNREACHABLE');
      assert.equal(err.details.reason, 'UND_ERR_CONNECT_TIMEOUT');
    } finally {
      await quick.close();
      silent.close();
    }
  });

  it('refuses two hosts recorded at one address:port with different pins at the same time', async () => {
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const s = await stub({
      handler: async (_req, res) => {
        await held;
        json(res, 200, healthBody());
      },
    });
    const first = client.health(target(s));
    await waitFor(() => s.requests === 1);
    const other: UpdaterTarget = { host: 'h2', address: '127.0.0.1', port: s.port, pin: 'b'.repeat(64) };
    const err = await rejectsWith(() => client.health(other), 'SWARM_ERR_CLIENT_PIN_MISMATCH');
    assert.match(err.message, /h1 and h2/);
    answer();
    assert.equal((await first).host, 'h1');
    assert.equal(s.requests, 1);
  });

  it('refuses an address that could name another origin', async () => {
    for (const address of ['evil.example/x', 'user@127.0.0.1', '127.0.0.1:99', '']) {
      await rejectsWith(() => client.health({ host: 'h1', address, port: 8766, pin: pki.pin }), 'SWARM_ERR_HOST_ADDRESS_INVALID');
    }
  });

  it('turns a /health body that is not an updater\'s into BAD_RESPONSE', async () => {
    const s = await stub({ handler: (_req, res) => json(res, 200, healthBody({ role: 'agent' })) });
    const err = await rejectsWith(() => client.health(target(s)), 'SWARM_ERR_CLIENT_BAD_RESPONSE');
    assert.equal(err.details.host, 'h1');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
