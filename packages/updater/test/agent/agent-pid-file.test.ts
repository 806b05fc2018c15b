import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { PackResult } from '@swarm/bundle';
import { createLogger } from '@swarm/log';
import { parseUpdaterConfig, startUpdater } from '../../src/index.js';
import { freePort, killSeenAgents, pidAlive, trackAgent, updaterClient } from '../helpers/harness.js';
import { createPkiFixture, type PkiFixture } from '../helpers/pki-fixture.js';
import { buildRelease } from '../helpers/releases.js';

// agent.pid is a pid file by the convention every tool relies on (the decimal PID and a
// newline); the identity the updater adopts by (PID + start time + release) is agent.json.

const run = promisify(execFile);
let fx: PkiFixture;
let v1: PackResult;
let v2: PackResult;
const idOf = (r: PackResult) => `${r.version}-${r.sha256.slice(0, 12)}`;

before(async () => {
  fx = await createPkiFixture();
  const root = join(fx.root, 'releases');
  [v1, v2] = await Promise.all([buildRelease(root, { version: '1.0.0' }), buildRelease(root, { version: '2.0.0' })]);
});

after(async () => {
  killSeenAgents();
  await fx?.cleanup();
});

/** An install directory, and updaters started on it in this process (stopped gracefully: the agent lives on). */
async function host() {
  const installDir = await mkdtemp(join(fx.root, 'install-'));
  const agentPort = await freePort();
  const start = async () => {
    const config = parseUpdaterConfig({
      flags: { bundle: fx.bundleDir, installDir, listen: '127.0.0.1:0', agentPort, probeIntervalMs: 50 },
    });
    const updater = await startUpdater({ config, logger: createLogger({ name: 'updater', level: 'silent' }) });
    return { updater, client: updaterClient(fx, updater.address.port) };
  };
  return {
    installDir,
    start,
    pidFile: () => readFile(join(installDir, 'agent.pid'), 'utf8'),
    record: async () => JSON.parse(await readFile(join(installDir, 'agent.json'), 'utf8')) as Record<string, unknown>,
  };
}

describe('agent.pid and agent.json', () => {
  it('agent.pid holds the decimal PID and a newline: `kill -0 "$(cat agent.pid)"` works; agent.json names the release', async () => {
    const h = await host();
    const a = await h.start();
    try {
      const res = await a.client.push(v1);
      assert.equal(res.status, 200, res.text);
      const pid = (await a.client.health()).body.agent.pid as number;
      trackAgent(pid);
      assert.equal(await h.pidFile(), `${pid}\n`);
      const shell = await run('sh', ['-c', 'kill -0 "$(cat agent.pid)" && echo alive'], { cwd: h.installDir });
      assert.equal(shell.stdout, 'alive\n');
      const record = await h.record();
      assert.equal(record.pid, pid);
      assert.equal(record.releaseId, idOf(v1));
      assert.match(String(record.startTime), /^[0-9]+$/, 'the start time from /proc/<pid>/stat');
    } finally {
      await a.updater.close();
    }
  });

  it('a restarted updater adopts the agent agent.json names, and agent.pid keeps naming it', async () => {
    const h = await host();
    const a = await h.start();
    assert.equal((await a.client.push(v1)).status, 200);
    const pid = (await a.client.health()).body.agent.pid as number;
    trackAgent(pid);
    await a.updater.close();
    const b = await h.start();
    try {
      assert.equal((await b.client.health()).body.agent.pid, pid, 'adopted, not restarted');
      assert.equal(await h.pidFile(), `${pid}\n`);
    } finally {
      await b.updater.close();
    }
  });

  for (const [what, damage] of [
    ['is missing', (dir: string) => rm(join(dir, 'agent.pid'))],
    ['names an older agent', (dir: string) => writeFile(join(dir, 'agent.pid'), '4194303\n')],
  ] as const) {
    it(`a crash between the two writes (agent.pid ${what}) → the agent is adopted and agent.pid put right`, async () => {
      const h = await host();
      const a = await h.start();
      assert.equal((await a.client.push(v1)).status, 200);
      const pid = (await a.client.health()).body.agent.pid as number;
      trackAgent(pid);
      await a.updater.close();
      await damage(h.installDir);
      const b = await h.start();
      try {
        assert.equal((await b.client.health()).body.agent.pid, pid, 'adopted by agent.json');
        assert.equal(await h.pidFile(), `${pid}\n`, 'agent.pid names the adopted agent again');
      } finally {
        await b.updater.close();
      }
    });
  }

  it('a JSON agent.pid of an earlier updater (no agent.json) is adopted and left as it is until the next start', async () => {
    const h = await host();
    const a = await h.start();
    assert.equal((await a.client.push(v1)).status, 200);
    const pid = (await a.client.health()).body.agent.pid as number;
    trackAgent(pid);
    await a.updater.close();
    // What an updater before the split wrote: the identity record in agent.pid itself.
    const legacy = `${JSON.stringify(await h.record())}\n`;
    await rm(join(h.installDir, 'agent.json'));
    await writeFile(join(h.installDir, 'agent.pid'), legacy);
    const b = await h.start();
    try {
      assert.equal((await b.client.health()).body.agent.pid, pid, 'the earlier updater’s agent is adopted');
      // Left alone: an earlier updater started again by a failed self-update must still read it.
      assert.equal(await h.pidFile(), legacy);
      const res = await b.client.push(v2);
      assert.equal(res.status, 200, res.text);
      const next = (await b.client.health()).body.agent.pid as number;
      trackAgent(next);
      assert.equal(await pidAlive(pid), false, 'the adopted agent was stopped for v2');
      assert.equal(await h.pidFile(), `${next}\n`, 'the next start writes a plain pid file');
      assert.equal((await h.record()).releaseId, idOf(v2));
    } finally {
      await b.updater.close();
    }
  });
});
