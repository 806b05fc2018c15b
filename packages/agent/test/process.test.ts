// The agent as a real process: the built dist/main.js and the esbuild bundle a release
// ships (scripts/bundle-agent.mjs), started with `node` as the updater starts a release.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, parse, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  call,
  createPki,
  inFlight,
  listeningPort,
  spawnAgent,
  writeAgentFiles,
  type AgentChild,
  type AgentFiles,
  type Pki,
} from './fixtures.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const distMain = join(root, 'packages/agent/dist/main.js');

let pki: Pki;
let files: AgentFiles;
let releaseDir: string;
const children: AgentChild[] = [];

before(async () => {
  assert.ok(existsSync(distMain), `${distMain} is missing: build first (npm run build, or npx tsc -b packages/agent)`);
  releaseDir = await mkdtemp(join(tmpdir(), 'swarm-agent-release-'));
  const [fixture] = await Promise.all([
    createPki(['master']),
    // The real bundling script, writing straight into a directory with no node_modules.
    promisify(execFile)(process.execPath, [join(root, 'scripts/bundle-agent.mjs'), '--out', join(releaseDir, 'agent.mjs')]),
  ]);
  pki = fixture;
  files = await writeAgentFiles(pki);
});
after(async () => {
  await files?.cleanup();
  if (releaseDir) await rm(releaseDir, { recursive: true, force: true });
});
afterEach(async () => {
  // No child outlives its test, whatever happened in it.
  for (const agent of children.splice(0)) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
    await agent.exited;
  }
});

function start(args: readonly string[], env: NodeJS.ProcessEnv = files.env, cwd = releaseDir): AgentChild {
  const agent = spawnAgent(args, { cwd, env });
  children.push(agent);
  return agent;
}

describe('agent process (dist/main.js)', () => {
  it('on SIGTERM finishes the request in flight and exits 0', async () => {
    const agent = start([distMain, '--listen', '127.0.0.1']);
    const port = await listeningPort(agent);
    const pending = inFlight(pki, port, '/version', pki.clients.master!);
    await pending.continued;
    agent.child.kill('SIGTERM');
    await agent.waitForLine((l) => l.event === 'stopping');
    pending.finish();
    const answer = await pending.answer;
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { version: '1.0.0' });
    assert.equal(await agent.exited, 0);
    assert.ok(agent.lines.some((l) => l.event === 'stopped'));
  });

  it('on SIGTERM exits 0 even when a request never completes, after --shutdown-timeout-ms', async () => {
    const agent = start([distMain, '--listen', '127.0.0.1', '--shutdown-timeout-ms', '100']);
    const port = await listeningPort(agent);
    const stuck = inFlight(pki, port, '/version', pki.clients.master!);
    await stuck.continued;
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
    await assert.rejects(stuck.answer);
    assert.ok(agent.lines.some((l) => l.event === 'connections-cut'));
  });

  it('on SIGINT exits 0', async () => {
    const agent = start([distMain, '--listen', '127.0.0.1']);
    await listeningPort(agent);
    agent.child.kill('SIGINT');
    assert.equal(await agent.exited, 0);
  });

  it('exits 2 with a JSON line naming the problem on a usage or configuration error', async () => {
    const usage = start([distMain, '--bogus']);
    assert.equal(await usage.exited, 2);
    assert.equal(usage.lines.at(-1)?.code, 'SWARM_ERR_USAGE_INVALID');

    const config = start([distMain], { ...files.env, SWARM_KEY: '' });
    assert.equal(await config.exited, 2);
    const fatal = config.lines.at(-1)!;
    assert.equal(fatal.code, 'SWARM_ERR_CONFIG_INVALID');
    assert.equal(fatal.event, 'fatal');
    assert.match(String(fatal.msg), /SWARM_KEY/);
  });
});

describe('agent bundle (agent.mjs, no node_modules)', () => {
  it('is one file in a directory with no node_modules above it', async () => {
    assert.deepEqual(await readdir(releaseDir), ['agent.mjs']);
    for (let dir = releaseDir; dir !== parse(dir).root; dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules must not exist for this test to mean anything`);
    }
  });

  it('runs with `node agent.mjs` from the release directory: /health answers, SIGTERM exits 0', async () => {
    // Relative file paths resolve against the working directory, the release directory.
    const rel = (name: string) => relative(releaseDir, join(files.dir, name));
    const env = {
      ...files.env,
      SWARM_CA: rel('ca.crt'),
      SWARM_CERT: rel('agent.crt'),
      SWARM_KEY: rel('agent.key'),
      SWARM_RELEASE_VERSION: '2.3.4',
    };
    const agent = start(['agent.mjs', '--listen', '127.0.0.1'], env);
    const port = await listeningPort(agent);
    const { status, body } = await call(pki, port, '/health', pki.clients.master!);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.version, '2.3.4');
    assert.equal(body.host, 'h1');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited, 0);
  });

  it('--unhealthy: /health answers 503 unhealthy', async () => {
    const agent = start(['agent.mjs', '--listen', '127.0.0.1', '--unhealthy']);
    const port = await listeningPort(agent);
    const { status, body } = await call(pki, port, '/health', pki.clients.master!);
    assert.equal(status, 503);
    assert.equal(body.status, 'unhealthy');
  });

  it('--report-version: reports that version instead of SWARM_RELEASE_VERSION', async () => {
    const agent = start(['agent.mjs', '--listen', '127.0.0.1', '--report-version', '0.0.1-liar']);
    const port = await listeningPort(agent);
    assert.equal((await call(pki, port, '/health', pki.clients.master!)).body.version, '0.0.1-liar');
  });

  it('--fail-start: exits 1 at once with a message on stderr, never listening', async () => {
    const agent = start(['agent.mjs', '--fail-start']);
    assert.equal(await agent.exited, 1);
    assert.ok(!agent.lines.some((l) => l.event === 'listening'));
    const fatal = agent.lines.at(-1)!;
    assert.equal(fatal.code, 'SWARM_ERR_AGENT_FAULT_INJECTED');
    assert.match(String(fatal.msg), /--fail-start/);
  });

  it('--exit-after-ms: listens, then exits 1', async () => {
    const agent = start(['agent.mjs', '--listen', '127.0.0.1', '--exit-after-ms', '200']);
    const port = await listeningPort(agent);
    assert.ok(port > 0);
    assert.equal(await agent.exited, 1);
    assert.equal(agent.lines.at(-1)?.code, 'SWARM_ERR_AGENT_FAULT_INJECTED');
  });

  it('--help prints the usage with the test knobs on stdout and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['agent.mjs', '--help'], {
      cwd: releaseDir,
      env: { PATH: process.env.PATH },
    });
    for (const knob of ['--unhealthy', '--exit-after-ms', '--fail-start', '--report-version', '--listen'])
      assert.ok(stdout.includes(knob), knob);
  });
});
