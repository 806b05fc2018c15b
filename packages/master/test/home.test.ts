import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, identityOf } from '@swarm/pki';
import { homePaths, initHome, openHome, resolveHome, type InitHomeResult } from '../src/index.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** Leftovers of a staged init or a replaced home in `dir`. */
const leftovers = async (dir: string) => (await readdir(dir)).filter((e) => /\.(init|replaced)-/.test(e));

describe('resolveHome', () => {
  it('takes --home, then SWARM_HOME, then ~/.swarm, and makes it absolute', () => {
    assert.equal(resolveHome({ home: '/a/b', env: { SWARM_HOME: '/c' } }), '/a/b');
    assert.equal(resolveHome({ env: { SWARM_HOME: '/c', HOME: '/h' } }), '/c');
    assert.equal(resolveHome({ env: { HOME: '/h' } }), '/h/.swarm');
    assert.equal(resolveHome({ home: 'rel', env: {} }), join(process.cwd(), 'rel'));
  });
});

describe('initHome and openHome', () => {
  let dir: string;
  let home: string;
  let created: InitHomeResult;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-home-'));
    home = join(dir, 'home');
    created = await initHome({ home, trustDomain: 'fleet.test' });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the wiki/reference/layouts.md layout with private modes', async () => {
    const p = homePaths(home);
    assert.equal(await mode(home), 0o700);
    for (const d of [p.caDir, p.masterDir, p.bundles]) assert.equal(await mode(d), 0o700, d);
    for (const f of [p.caKey, p.masterKey, p.registry]) assert.equal(await mode(f), 0o600, f);
    for (const f of [p.caCert, p.masterCert]) assert.equal(await mode(f), 0o644, f);
    const manifest = JSON.parse(await readFile(p.manifest, 'utf8'));
    assert.deepEqual(manifest, { format: 1, trustDomain: 'fleet.test', createdAt: created.createdAt });
    assert.equal(created.caFingerprint, fingerprint(await readFile(p.caCert, 'utf8')));
    assert.equal(created.masterFingerprint, fingerprint(await readFile(p.masterCert, 'utf8')));
    assert.deepEqual(await leftovers(dir), []);
  });

  it('opens to the master identity, the CA and an empty registry', async () => {
    const opened = await openHome(home);
    try {
      assert.equal(opened.trustDomain, 'fleet.test');
      assert.equal(identityOf(opened.master.certPem, 'fleet.test').role, 'master');
      assert.equal(opened.master.caPem, opened.ca.certPem);
      assert.match(opened.master.keyPem, /BEGIN PRIVATE KEY/);
      assert.deepEqual(opened.registry.listHosts(), []);
    } finally {
      opened.close();
    }
  });

  it('refuses to init over an existing home and leaves it as it was', async () => {
    await assert.rejects(initHome({ home }), { code: 'SWARM_ERR_HOME_EXISTS', exitCode: 2 });
    const opened = await openHome(home);
    opened.close();
    assert.equal(fingerprint(opened.ca.certPem), created.caFingerprint);
  });

  it('never replaces a directory that is not a master home, even with force', async () => {
    const foreign = join(dir, 'documents');
    await mkdir(foreign);
    await writeFile(join(foreign, 'thesis.txt'), 'precious');
    await assert.rejects(initHome({ home: foreign, force: true }), {
      code: 'SWARM_ERR_HOME_EXISTS',
      message: /not a swarm master home/,
    });
    assert.deepEqual(await readdir(foreign), ['thesis.txt']);
  });

  it('fails with SWARM_ERR_HOME_UNWRITABLE and creates nothing when the parent is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    await assert.rejects(initHome({ home: join(file, 'home') }), { code: 'SWARM_ERR_HOME_UNWRITABLE' });
    assert.deepEqual(await leftovers(dir), []);
  });

  it('refuses an invalid trust domain before creating anything', async () => {
    await assert.rejects(initHome({ home: join(dir, 'td'), trustDomain: 'Not A Domain' }), {
      code: 'SWARM_ERR_USAGE_INVALID',
    });
    assert.equal(existsSync(join(dir, 'td')), false);
  });

  it('lets exactly one of two concurrent inits win, and the winner is a complete home', async () => {
    const target = join(dir, 'raced');
    await mkdir(target); // an existing empty directory is fine to init into
    const results = await Promise.allSettled([initHome({ home: target }), initHome({ home: target })]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.reason.code, 'SWARM_ERR_HOME_EXISTS');
    const opened = await openHome(target);
    opened.close();
    assert.equal(
      fingerprint(opened.ca.certPem),
      (won[0] as PromiseFulfilledResult<InitHomeResult>).value.caFingerprint,
    );
    assert.deepEqual(await leftovers(dir), []);
  });

  it('with force, replaces a home whole: new CA, empty registry, nothing left aside', async () => {
    const target = join(dir, 'raced');
    const before = await openHome(target);
    const firstCa = fingerprint(before.ca.certPem);
    before.registry.addHost({
      name: 'web-1',
      address: '127.0.0.1',
      agentPort: 8765,
      updaterPort: 8766,
      agentFingerprint: '0'.repeat(64),
      updaterFingerprint: null,
    });
    before.close();
    const replaced = await initHome({ home: target, force: true });
    assert.equal(replaced.replaced, true);
    assert.notEqual(replaced.caFingerprint, firstCa);
    const after = await openHome(target);
    try {
      assert.equal(fingerprint(after.ca.certPem), replaced.caFingerprint);
      assert.deepEqual(after.registry.listHosts(), []);
    } finally {
      after.close();
    }
    assert.deepEqual(await leftovers(dir), []);
  });

  describe('opening a damaged home', () => {
    let copy: string;
    before(async () => {
      copy = join(dir, 'copy');
      await mkdir(copy, { mode: 0o700 });
      const p = homePaths(home);
      const c = homePaths(copy);
      await mkdir(c.caDir, { mode: 0o700 });
      await mkdir(c.masterDir, { mode: 0o700 });
      for (const key of ['manifest', 'caCert', 'caKey', 'masterCert', 'masterKey', 'registry'] as const)
        await copyFile(p[key], c[key]);
    });

    it('says no home for a missing or empty directory', async () => {
      await assert.rejects(openHome(join(dir, 'nowhere')), { code: 'SWARM_ERR_HOME_MISSING', exitCode: 2 });
      const empty = join(dir, 'empty');
      await mkdir(empty);
      await assert.rejects(openHome(empty), { code: 'SWARM_ERR_HOME_MISSING' });
    });

    it('opens a faithful copy', async () => {
      (await openHome(copy)).close();
    });

    it('names a missing file', async () => {
      const key = homePaths(copy).masterKey;
      const saved = await readFile(key);
      await rm(key);
      try {
        await assert.rejects(openHome(copy), { code: 'SWARM_ERR_HOME_INVALID', message: new RegExp(`missing ${key}`) });
      } finally {
        await writeFile(key, saved, { mode: 0o600 });
      }
    });

    it('refuses a private key that others can read', async () => {
      const key = homePaths(copy).caKey;
      await chmod(key, 0o644);
      try {
        await assert.rejects(openHome(copy), {
          code: 'SWARM_ERR_HOME_INVALID',
          message: /readable by others \(mode 0644\)/,
        });
      } finally {
        await chmod(key, 0o600);
      }
    });

    it('refuses a master certificate from another CA', async () => {
      const c = homePaths(copy);
      const other = homePaths(join(dir, 'raced'));
      const saved = await readFile(c.masterCert);
      await copyFile(other.masterCert, c.masterCert);
      await copyFile(other.masterKey, c.masterKey);
      try {
        await assert.rejects(openHome(copy), { code: 'SWARM_ERR_HOME_INVALID', message: /was not issued by/ });
        await writeFile(c.masterCert, saved);
        await assert.rejects(openHome(copy), { code: 'SWARM_ERR_HOME_INVALID', message: /is not the key of/ });
      } finally {
        await copyFile(homePaths(home).masterKey, c.masterKey);
        await writeFile(c.masterCert, saved);
      }
    });
  });
});
