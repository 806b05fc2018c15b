import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentError, type RunningAgent } from '../src/index.js';
import { AGENT_VERSION } from '../src/version.js';
import { createAgentLogger } from '../src/log.js';
import { startAgent } from '../src/server.js';
import { call, collectLogs, createPki, inFlight, writeAgentFiles, type AgentFiles, type Pki } from './fixtures.js';

let pki: Pki;
let files: AgentFiles;

before(async () => {
  pki = await createPki(['master', 'updaterH1', 'updaterH2', 'agentH2', 'foreignMaster', 'otherDomainMaster']);
  files = await writeAgentFiles(pki);
});
after(() => files.cleanup());

describe('agent routes and mutual TLS', () => {
  let agent: RunningAgent;
  const logs = collectLogs();
  before(async () => {
    agent = await startAgent({ env: files.env, listen: '127.0.0.1', logger: createLogger(logs.sink) });
  });
  after(() => agent.close());

  it('answers GET /health to any certificate of the CA, with status, version, host and uptime', async () => {
    for (const name of ['master', 'updaterH1', 'updaterH2', 'agentH2']) {
      const { status, body, headers } = await call(pki, agent.port, '/health', pki.clients[name]!);
      assert.equal(status, 200, name);
      assert.deepEqual(Object.keys(body).sort(), ['host', 'status', 'uptimeMs', 'version'], name);
      assert.equal(body.status, 'ok');
      assert.equal(body.version, '1.0.0');
      assert.equal(body.host, 'h1');
      assert.equal(typeof body.uptimeMs, 'number');
      assert.ok((body.uptimeMs as number) >= 0);
      assert.match(String(headers['content-type']), /^application\/json/);
    }
    // The agent's own certificate (h1's agent) may probe itself too.
    assert.equal((await call(pki, agent.port, '/health', pki.agentH1)).status, 200);
  });

  it('answers GET /version to the master and to the updater of its own host', async () => {
    for (const name of ['master', 'updaterH1']) {
      const { status, body } = await call(pki, agent.port, '/version', pki.clients[name]!);
      assert.equal(status, 200, name);
      assert.deepEqual(body, { version: '1.0.0' });
    }
  });

  it("refuses /version to agents (its own included) and to another host's updater: 403 SWARM_ERR_AUTH_FORBIDDEN", async () => {
    for (const [name, cert] of [
      ['agentH1', pki.agentH1],
      ['agentH2', pki.clients.agentH2!],
      ['updaterH2', pki.clients.updaterH2!],
    ] as const) {
      const { status, body } = await call(pki, agent.port, '/version', cert);
      assert.equal(status, 403, name);
      assert.equal(body.code, 'SWARM_ERR_AUTH_FORBIDDEN', name);
      assert.equal(typeof body.message, 'string');
      assert.equal(body.version, undefined, `${name} must not learn the version`);
    }
    const refused = logs.lines.filter((l) => l.event === 'request' && l.status === 403);
    assert.ok(
      refused.some((l) => l.peer === 'spiffe://test.swarm/host/h2/updater'),
      'the refusal is logged with the peer identity',
    );
  });

  it('refuses a certificate of our CA that speaks for another trust domain', async () => {
    const { status, body } = await call(pki, agent.port, '/version', pki.clients.otherDomainMaster!);
    assert.equal(status, 403);
    assert.equal(body.code, 'SWARM_ERR_AUTH_FORBIDDEN');
    assert.match(String(body.message), /other\.swarm/);
  });

  it('answers unknown routes 404 to operators, and 403 to everyone else before routing', async () => {
    const asMaster = await call(pki, agent.port, '/nope', pki.clients.master!);
    assert.equal(asMaster.status, 404);
    assert.equal(asMaster.body.code, 'SWARM_ERR_AGENT_NOT_FOUND');
    const postHealth = await call(pki, agent.port, '/health', pki.clients.master!, { method: 'POST' });
    assert.equal(postHealth.status, 404);
    const asAgent = await call(pki, agent.port, '/nope', pki.clients.agentH2!);
    assert.equal(asAgent.status, 403);
    assert.equal(asAgent.body.code, 'SWARM_ERR_AUTH_FORBIDDEN');
  });

  it('serves HEAD /health without a body and ignores the query string', async () => {
    const head = await call(pki, agent.port, '/health', pki.clients.agentH2!, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.deepEqual(head.body, {});
    assert.equal((await call(pki, agent.port, '/health?probe=1', pki.clients.agentH2!)).body.status, 'ok');
  });

  it('refuses a client of a foreign CA and a client without a certificate in the TLS handshake', async () => {
    const before = logs.lines.filter((l) => l.event === 'tls-refused').length;
    await assert.rejects(call(pki, agent.port, '/health', pki.clients.foreignMaster!));
    await assert.rejects(call(pki, agent.port, '/health', null));
    // The refusals happened in TLS (no request line was ever logged for them).
    const refusals = logs.lines.filter((l) => l.event === 'tls-refused').length - before;
    assert.equal(refusals, 2);
  });

  it('logs one JSON line per event, with its identity and fingerprint but never PEM', () => {
    const listening = logs.lines.find((l) => l.event === 'listening');
    assert.ok(listening);
    assert.equal(listening.identity, 'spiffe://test.swarm/host/h1/agent');
    assert.match(String(listening.fingerprint), /^[0-9a-f]{64}$/);
    assert.equal(listening.port, agent.port);
    assert.ok(!JSON.stringify(logs.lines).includes('BEGIN'), 'no PEM in the logs');
  });
});

describe('agent knobs', () => {
  it('--unhealthy: /health answers 503 { status: "unhealthy" }', async () => {
    const agent = await startAgent({
      env: files.env,
      listen: '127.0.0.1',
      flags: { unhealthy: true },
      logger: createLogger(),
    });
    try {
      const { status, body } = await call(pki, agent.port, '/health', pki.clients.master!);
      assert.equal(status, 503);
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.version, '1.0.0');
    } finally {
      await agent.close();
    }
  });

  it("--report-version: /health and /version report the given version instead of the release's", async () => {
    const agent = await startAgent({
      env: files.env,
      listen: '127.0.0.1',
      flags: { reportVersion: '9.9.9' },
      logger: createLogger(),
    });
    try {
      assert.equal((await call(pki, agent.port, '/health', pki.clients.master!)).body.version, '9.9.9');
      assert.deepEqual((await call(pki, agent.port, '/version', pki.clients.master!)).body, { version: '9.9.9' });
    } finally {
      await agent.close();
    }
  });

  it("reports the package version when SWARM_RELEASE_VERSION is unset, and the cert's host when SWARM_HOST is", async () => {
    const env = { ...files.env, SWARM_RELEASE_VERSION: undefined, SWARM_HOST: undefined };
    const agent = await startAgent({ env, listen: '127.0.0.1', logger: createLogger() });
    try {
      const { body } = await call(pki, agent.port, '/health', pki.clients.master!);
      assert.equal(body.version, AGENT_VERSION);
      assert.equal(body.host, 'h1');
    } finally {
      await agent.close();
    }
  });

  it('AGENT_VERSION is the version in packages/agent/package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(AGENT_VERSION, pkg.version);
  });
});

describe('agent stop', () => {
  it('finishes a request in flight, refuses new connections, then resolves close()', async () => {
    const logs = collectLogs();
    const agent = await startAgent({ env: files.env, listen: '127.0.0.1', logger: createLogger(logs.sink) });
    const pending = inFlight(pki, agent.port, '/version', pki.clients.master!);
    await pending.continued;
    const closed = agent.close();
    await assert.rejects(call(pki, agent.port, '/health', pki.clients.master!), /ECONNREFUSED/);
    pending.finish();
    const answer = await pending.answer;
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { version: '1.0.0' });
    assert.equal(answer.headers.connection, 'close');
    await closed;
    assert.ok(!logs.lines.some((l) => l.event === 'connections-cut'), 'nothing had to be cut');
  });

  it('answers /health 503 "stopping" while it drains', async () => {
    const agent = await startAgent({ env: files.env, listen: '127.0.0.1', logger: createLogger() });
    const pending = inFlight(pki, agent.port, '/health', pki.clients.agentH2!);
    await pending.continued;
    const closed = agent.close();
    pending.finish();
    const answer = await pending.answer;
    assert.equal(answer.status, 503);
    assert.equal(answer.body.status, 'stopping');
    await closed;
  });

  it('cuts a request that outlives the shutdown bound', async () => {
    const logs = collectLogs();
    const agent = await startAgent({
      env: files.env,
      listen: '127.0.0.1',
      shutdownTimeoutMs: 50,
      logger: createLogger(logs.sink),
    });
    const stuck = inFlight(pki, agent.port, '/version', pki.clients.master!);
    await stuck.continued;
    // The body never comes: close() must still return, by cutting the connection.
    await agent.close();
    await assert.rejects(stuck.answer);
    assert.ok(logs.lines.some((l) => l.event === 'connections-cut'));
  });
});

describe('agent configuration errors', () => {
  it('reports every missing variable at once (SWARM_ERR_CONFIG_INVALID, exit 2)', async () => {
    const err = await startAgent({ env: { SWARM_AGENT_PORT: 'x' }, logger: createLogger() }).catch((e: unknown) => e);
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.equal(err.exitCode, 2);
    assert.equal(err.problems.length, 4);
    for (const name of ['SWARM_CA', 'SWARM_CERT', 'SWARM_KEY', 'SWARM_AGENT_PORT'])
      assert.match(err.message, new RegExp(name));
  });

  it("refuses a certificate that is not an agent's, or that names another host than SWARM_HOST", async () => {
    const dir = files.dir;
    await writeFile(join(dir, 'updater.crt'), pki.clients.updaterH1!.certPem);
    const wrongRole = await startAgent({
      env: { ...files.env, SWARM_CERT: join(dir, 'updater.crt') },
      logger: createLogger(),
    }).catch((e: unknown) => e);
    assert.ok(wrongRole instanceof AgentError);
    assert.equal(wrongRole.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.match(wrongRole.message, /updater certificate/);

    const wrongHost = await startAgent({ env: { ...files.env, SWARM_HOST: 'h2' }, logger: createLogger() }).catch(
      (e: unknown) => e,
    );
    assert.ok(wrongHost instanceof AgentError);
    assert.match(wrongHost.message, /SWARM_HOST is "h2"/);
  });

  it('refuses a key that does not match the certificate', async () => {
    const dir = files.dir;
    await writeFile(join(dir, 'other.key'), pki.clients.master!.keyPem, { mode: 0o600 });
    const err = await startAgent({
      env: { ...files.env, SWARM_KEY: join(dir, 'other.key') },
      logger: createLogger(),
    }).catch((e: unknown) => e);
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, 'SWARM_ERR_CONFIG_INVALID');
  });

  it('fails with SWARM_ERR_AGENT_LISTEN_FAILED when the port is taken', async () => {
    const first = await startAgent({ env: files.env, listen: '127.0.0.1', logger: createLogger() });
    try {
      const err = await startAgent({
        env: { ...files.env, SWARM_AGENT_PORT: String(first.port) },
        listen: '127.0.0.1',
        logger: createLogger(),
      }).catch((e: unknown) => e);
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'SWARM_ERR_AGENT_LISTEN_FAILED');
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('warns when the private key is readable by others, and still starts', async () => {
    const dir = files.dir;
    await writeFile(join(dir, 'wide.key'), pki.agentH1.keyPem);
    await chmod(join(dir, 'wide.key'), 0o644);
    const logs = collectLogs();
    const agent = await startAgent({
      env: { ...files.env, SWARM_KEY: join(dir, 'wide.key') },
      listen: '127.0.0.1',
      logger: createLogger(logs.sink),
    });
    await agent.close();
    const warning = logs.lines.find((l) => l.event === 'key-mode');
    assert.ok(warning);
    assert.match(String(warning.msg), /0644/);
  });
});

/** The agent's own logger into `sink` (default: dropped), at debug so tests see every event. */
function createLogger(sink: { write(line: string): unknown } = { write: () => true }) {
  return createAgentLogger({ sink, level: 'debug' });
}
