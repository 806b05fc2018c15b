import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opensslPin, swarm, tree } from './cli-harness.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('swarm enroll, hosts and decommission', () => {
  let dir: string;
  let home: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-cli-'));
    home = join(dir, 'home');
    env = { HOME: dir, SWARM_HOME: home, PATH: process.env.PATH ?? '' };
    const init = await swarm(['init', '--trust-domain', 'fleet.test'], env);
    assert.equal(init.code, 0, init.stderr);
    const web1 = await swarm(['enroll', '--host', 'web-1', '--address', '127.0.0.1', '--updater'], env);
    assert.equal(web1.code, 0, web1.stderr);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const hostsJson = async () => {
    const r = await swarm(['hosts', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  };

  it('writes the bundle with keys 0600 in a 0700 directory', async () => {
    const bundle = join(home, 'bundles', 'web-1');
    assert.equal(await mode(bundle), 0o700);
    for (const key of ['agent.key', 'updater.key']) assert.equal(await mode(join(bundle, key)), 0o600);
    assert.deepEqual(await tree(bundle), [
      'agent.crt',
      'agent.key',
      'ca.crt',
      'host.json',
      'updater.crt',
      'updater.key',
    ]);
  });

  it('hosts --json has the wiki/reference/cli.md shape and the pins openssl computes from the bundle', async () => {
    const hosts = await hostsJson();
    assert.equal(hosts.length, 1);
    const [web1] = hosts;
    assert.deepEqual(Object.keys(web1!), [
      'name',
      'address',
      'updaterPort',
      'agentPort',
      'updaterFingerprint',
      'agentFingerprint',
      'enrolledAt',
    ]);
    const bundle = join(home, 'bundles', 'web-1');
    assert.deepEqual(web1, {
      name: 'web-1',
      address: '127.0.0.1',
      updaterPort: 8766,
      agentPort: 8765,
      updaterFingerprint: opensslPin(join(bundle, 'updater.crt')),
      agentFingerprint: opensslPin(join(bundle, 'agent.crt')),
      enrolledAt: web1!.enrolledAt,
    });
    assert.ok(!Number.isNaN(Date.parse(String(web1!.enrolledAt))));
  });

  const bad: [string, string[], string][] = [
    ['the reserved name master', ['--host', 'master', '--address', '10.0.0.9'], 'SWARM_ERR_HOST_NAME_RESERVED'],
    ['Web_1', ['--host', 'Web_1', '--address', '10.0.0.9'], 'SWARM_ERR_HOST_NAME_INVALID'],
    ['a 70-character name', ['--host', 'a'.repeat(70), '--address', '10.0.0.9'], 'SWARM_ERR_HOST_NAME_INVALID'],
    ['a duplicate', ['--host', 'web-1', '--address', '10.0.0.9', '--updater'], 'SWARM_ERR_HOST_EXISTS'],
    ['a missing --address', ['--host', 'web-9'], 'SWARM_ERR_USAGE_INVALID'],
    [
      'a bad --agent-port',
      ['--host', 'web-9', '--address', '10.0.0.9', '--agent-port', '0'],
      'SWARM_ERR_USAGE_INVALID',
    ],
    ['a bad --address', ['--host', 'web-9', '--address', 'http://10.0.0.9:8766'], 'SWARM_ERR_HOST_ADDRESS_INVALID'],
    [
      'an --out under a file',
      ['--host', 'web-9', '--address', '10.0.0.9', '--out', '<file>/bundle'],
      'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
    ],
    [
      'an --out that holds files',
      ['--host', 'web-9', '--address', '10.0.0.9', '--out', '<full>'],
      'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
    ],
  ];
  for (const [what, args, code] of bad) {
    it(`exits 2 with ${code} on ${what}, leaving the registry and bundles unchanged`, async () => {
      const file = join(dir, 'a-file');
      const full = join(dir, 'full');
      await writeFile(file, 'x');
      await mkdir(full, { recursive: true });
      await writeFile(join(full, 'mine.txt'), 'x');
      const hostsBefore = await hostsJson();
      const homeBefore = await tree(home);
      const dirBefore = await tree(dir);

      const r = await swarm(['enroll', ...args.map((a) => a.replace('<file>', file).replace('<full>', full))], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^error ${code}: .+\\nhint: .+`, 'm'));
      assert.equal(r.stdout, '', 'nothing on stdout when a command fails');

      assert.deepEqual(await hostsJson(), hostsBefore);
      assert.deepEqual(await tree(home), homeBefore);
      assert.deepEqual(await tree(dir), dirBefore, 'no partial bundle anywhere');
    });
  }

  it('with --out elsewhere, keeps no worker key under the home, and --json gives the bundle', async () => {
    const out = join(dir, 'handover', 'db-1');
    const r = await swarm(
      ['enroll', '--host', 'db-1', '--address', 'db-1.internal', '--out', out, '--agent-port', '9443', '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.name, 'db-1');
    assert.equal(json.agentPort, 9443);
    assert.equal(json.updaterFingerprint, null);
    assert.equal(json.bundle, out);
    assert.equal(json.agentFingerprint, opensslPin(join(out, 'agent.crt')));
    assert.equal(existsSync(join(home, 'bundles', 'db-1')), false);
    const keys = [];
    for (const path of await tree(home)) {
      const full = join(home, path);
      if ((await stat(full)).isFile() && (await readFile(full)).includes('PRIVATE KEY')) keys.push(path);
    }
    assert.deepEqual(keys, ['bundles/web-1/agent.key', 'bundles/web-1/updater.key', 'ca/ca.key', 'master/master.key']);
  });

  it('hosts prints a table on stdout', async () => {
    const r = await swarm(['hosts'], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^HOST\s+ADDRESS\s+UPDATER\s+AGENT\s+UPDATER PIN\s+AGENT PIN\s+ENROLLED$/);
    assert.match(lines[1]!, /^db-1\s+db-1\.internal\s+8766\s+9443\s+none\s+[0-9a-f]{16}…/);
    assert.match(lines[2]!, /^web-1\s+127\.0\.0\.1\s+8766\s+8765\s+[0-9a-f]{16}…/);
  });

  it('decommission removes the host, its pins and its bundle; a second time exits 2', async () => {
    const r = await swarm(['decommission', '--host', 'web-1'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (await hostsJson()).map((h) => h.name),
      ['db-1'],
    );
    assert.equal(existsSync(join(home, 'bundles', 'web-1')), false);
    const again = await swarm(['decommission', '--host', 'web-1'], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^error SWARM_ERR_HOST_UNKNOWN: host "web-1" is not enrolled\nhint: /);
  });
});
