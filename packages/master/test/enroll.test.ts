import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, identityOf, readWorkerBundle } from '@swarm/pki';
import { decommissionHost, enrollHost, homePaths, initHome, openHome, type MasterHome } from '../src/index.js';
import { assertHostAddress } from '../src/enroll/host-address.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

describe('enrollHost and decommissionHost', () => {
  let dir: string;
  let home: string;
  let opened: MasterHome;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-enroll-'));
    home = join(dir, 'home');
    await initHome({ home, trustDomain: 'fleet.test' });
    opened = await openHome(home);
  });
  after(async () => {
    opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The registry and the bundles directory, to prove a failure changed neither. */
  const snapshot = async () => ({
    hosts: opened.registry.listHosts(),
    bundles: await readdir(homePaths(home).bundles),
  });

  it('with --updater, writes a complete private bundle and records both pins', async () => {
    const result = await enrollHost({ home, name: 'web-1', address: '10.1.2.3', updater: true });
    const bundle = join(homePaths(home).bundles, 'web-1');
    assert.equal(result.bundleDir, bundle);
    assert.deepEqual((await readdir(bundle)).sort(), [
      'agent.crt',
      'agent.key',
      'ca.crt',
      'host.json',
      'updater.crt',
      'updater.key',
    ]);
    assert.deepEqual([...result.files].sort(), (await readdir(bundle)).sort());
    assert.equal(await mode(bundle), 0o700);
    for (const key of ['agent.key', 'updater.key']) assert.equal(await mode(join(bundle, key)), 0o600, key);

    const read = await readWorkerBundle(bundle, { requireUpdater: true });
    assert.deepEqual(read.host, {
      name: 'web-1',
      trustDomain: 'fleet.test',
      address: '10.1.2.3',
      agentPort: 8765,
      updaterPort: 8766,
    });
    assert.equal(identityOf(read.updater!.certPem).uri, 'spiffe://fleet.test/host/web-1/updater');
    assert.match(new X509Certificate(read.agent.certPem).subjectAltName ?? '', /IP Address:10\.1\.2\.3/);

    const row = opened.registry.getHost('web-1');
    assert.deepEqual(row, result.host);
    assert.equal(row?.agentFingerprint, fingerprint(await readFile(join(bundle, 'agent.crt'), 'utf8')));
    assert.equal(row?.updaterFingerprint, fingerprint(await readFile(join(bundle, 'updater.crt'), 'utf8')));
    assert.equal(row?.agentPort, 8765);
    assert.equal(row?.updaterPort, 8766);
  });

  it('without --updater, issues no updater certificate and records no updater pin', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared, { mode: 0o755 });
    const out = join(shared, 'nested', 'db-1');
    const result = await enrollHost({
      home: opened,
      name: 'db-1',
      address: 'db-1.internal',
      out,
      agentPort: 9000,
      updaterPort: 9001,
    });
    assert.equal(result.host.updaterFingerprint, null);
    assert.deepEqual((await readdir(out)).sort(), ['agent.crt', 'agent.key', 'ca.crt', 'host.json']);
    await assert.rejects(readWorkerBundle(out, { requireUpdater: true }), { code: 'SWARM_ERR_BUNDLE_INVALID' });
    assert.equal((await readWorkerBundle(out)).host.agentPort, 9000);
    // Created parents are private too; a parent that already existed keeps its mode.
    assert.equal(await mode(join(shared, 'nested')), 0o700);
    assert.equal(await mode(shared), 0o755);
  });

  it('keeps no worker private key under the home when --out is elsewhere', async () => {
    const keys = [];
    for (const file of await filesUnder(home)) {
      if ((await readFile(file)).includes('PRIVATE KEY')) keys.push(file);
    }
    const p = homePaths(home);
    // web-1 went to the default bundle directory; db-1 went elsewhere and left nothing here.
    assert.deepEqual(
      keys.sort(),
      [p.caKey, p.masterKey, join(p.bundles, 'web-1', 'agent.key'), join(p.bundles, 'web-1', 'updater.key')].sort(),
    );
  });

  it('writes into an existing empty --out directory', async () => {
    const out = join(dir, 'empty-out');
    await mkdir(out, { mode: 0o755 });
    await enrollHost({ home, name: 'cache-1', address: '::1', out });
    assert.equal(await mode(out), 0o700);
    assert.ok(existsSync(join(out, 'agent.key')));
  });

  for (const [what, options, code] of [
    ['the reserved name master', { name: 'master' }, 'SWARM_ERR_HOST_NAME_RESERVED'],
    ['an upper-case name with an underscore', { name: 'Web_1' }, 'SWARM_ERR_HOST_NAME_INVALID'],
    ['a 70-character name', { name: 'a'.repeat(70) }, 'SWARM_ERR_HOST_NAME_INVALID'],
    ['an address with a scheme', { address: 'https://web-9' }, 'SWARM_ERR_HOST_ADDRESS_INVALID'],
    ['an address with a port', { address: 'web-9:8766' }, 'SWARM_ERR_HOST_ADDRESS_INVALID'],
    ['a port out of range', { agentPort: 70000 }, 'SWARM_ERR_USAGE_INVALID'],
    ['equal agent and updater ports', { agentPort: 8766, updater: true }, 'SWARM_ERR_USAGE_INVALID'],
    ['a duplicate name', { name: 'web-1' }, 'SWARM_ERR_HOST_EXISTS'],
  ] as const) {
    it(`refuses ${what} with ${code} and changes nothing`, async () => {
      const before = await snapshot();
      const webBundle = await readFile(join(homePaths(home).bundles, 'web-1', 'agent.crt'), 'utf8');
      await assert.rejects(enrollHost({ home, name: 'web-9', address: 'web-9', ...options }), { code, exitCode: 2 });
      assert.deepEqual(await snapshot(), before);
      assert.equal(await readFile(join(homePaths(home).bundles, 'web-1', 'agent.crt'), 'utf8'), webBundle);
    });
  }

  it('refuses an --out that holds files or cannot be created, recording nothing', async () => {
    const full = join(dir, 'full');
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    const file = join(dir, 'plain-file');
    await writeFile(file, '');
    for (const out of [full, join(file, 'bundle'), file]) {
      const before = await snapshot();
      await assert.rejects(enrollHost({ home, name: 'web-9', address: 'web-9', out }), {
        code: 'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
      });
      assert.deepEqual(await snapshot(), before, out);
    }
    assert.deepEqual(await readdir(full), ['keep.txt']);
    assert.deepEqual(
      (await readdir(dir)).filter((e) => e.includes('partial')),
      [],
    );
  });

  it('when two enrollments of one name race, one wins and the loser takes its bundle back', async () => {
    const outs = [join(dir, 'race-a'), join(dir, 'race-b')];
    const results = await Promise.allSettled(
      outs.map((out) => enrollHost({ home, name: 'race-1', address: 'race-1', out })),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1);
    const loser = 1 - winners[0]!;
    assert.equal((results[loser] as PromiseRejectedResult).reason.code, 'SWARM_ERR_HOST_EXISTS');
    assert.equal(existsSync(outs[loser]!), false, 'the losing bundle must be removed');
    const row = opened.registry.getHost('race-1');
    assert.equal(row?.agentFingerprint, fingerprint(await readFile(join(outs[winners[0]!]!, 'agent.crt'), 'utf8')));
  });

  it('decommission removes the host, its pins and its bundle under the home, keeping history', async () => {
    const op = opened.registry.startOperation({ kind: 'update' });
    opened.registry.recordHostResult(op, { host: 'web-1', outcome: 'updated' });
    opened.registry.finishOperation(op, 'succeeded');

    const result = await decommissionHost({ home, name: 'web-1' });
    assert.equal(result.host.name, 'web-1');
    assert.equal(result.bundleRemoved, join(homePaths(home).bundles, 'web-1'));
    assert.equal(opened.registry.getHost('web-1'), null);
    assert.equal(existsSync(join(homePaths(home).bundles, 'web-1')), false);
    assert.equal(opened.registry.listOperations({ host: 'web-1' }).length, 1);

    await assert.rejects(decommissionHost({ home, name: 'web-1' }), { code: 'SWARM_ERR_HOST_UNKNOWN', exitCode: 2 });
    // A bundle written elsewhere is the operator's: decommission does not go looking for it.
    const db1 = await decommissionHost({ home: opened, name: 'db-1' });
    assert.equal(db1.bundleRemoved, null);
    assert.ok(existsSync(join(dir, 'shared', 'nested', 'db-1', 'agent.key')));
  });

  it('decommission validates the name before it builds a path from it', async () => {
    await assert.rejects(decommissionHost({ home, name: '../ca' }), { code: 'SWARM_ERR_HOST_NAME_INVALID' });
    assert.ok(existsSync(homePaths(home).caKey));
  });
});

describe('assertHostAddress', () => {
  it('accepts IPv4, IPv6 and DNS names', () => {
    for (const ok of [
      '10.0.0.1',
      '::1',
      '2001:db8::7',
      'web-1',
      'web-1.prod.example.com',
      'WEB1.Example.com',
      'a'.repeat(63),
    ]) {
      assert.doesNotThrow(() => assertHostAddress(ok), ok);
    }
  });
  it('refuses schemes, ports, paths, zones, bad labels and numeric TLDs', () => {
    for (const bad of [
      '',
      'https://web',
      'web:80',
      'web/x',
      'fe80::1%eth0',
      '-web',
      'web-',
      'we_b',
      'a..b',
      '999.1.1.1',
      'a'.repeat(64),
      `${'a.'.repeat(127)}a`,
    ]) {
      assert.throws(() => assertHostAddress(bad), { code: 'SWARM_ERR_HOST_ADDRESS_INVALID' }, bad);
    }
  });
});
