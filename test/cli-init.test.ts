import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opensslPin, swarm } from './cli-harness.js';

describe('swarm init and global behaviour', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-cli-'));
    env = { HOME: dir, PATH: process.env.PATH ?? '' };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates ~/.swarm by default, prints JSON only with --json, and refuses a second init with exit 2', async () => {
    const first = await swarm(['init', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const json = JSON.parse(first.stdout);
    assert.equal(json.home, join(dir, '.swarm'));
    assert.equal(json.trustDomain, 'swarm.local');
    assert.equal(json.caFingerprint, opensslPin(join(dir, '.swarm', 'ca', 'ca.crt')));
    assert.equal(json.masterFingerprint, opensslPin(join(dir, '.swarm', 'master', 'master.crt')));
    const caBefore = await readFile(join(dir, '.swarm', 'ca', 'ca.crt'), 'utf8');

    const second = await swarm(['init'], env);
    assert.equal(second.code, 2);
    assert.equal(second.stdout, '');
    assert.match(second.stderr, /^error SWARM_ERR_HOME_EXISTS: a master home already exists at .+\nhint: .*--force/);
    assert.equal(await readFile(join(dir, '.swarm', 'ca', 'ca.crt'), 'utf8'), caBefore);
  });

  it('takes the home from --home before SWARM_HOME, after the command too', async () => {
    const r = await swarm(['hosts', '--home', join(dir, 'nowhere')], { ...env, SWARM_HOME: join(dir, '.swarm') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error SWARM_ERR_HOME_MISSING: no master home at .*nowhere\n/);
    const fromEnv = await swarm(['hosts', '--json'], { ...env, SWARM_HOME: join(dir, '.swarm') });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.deepEqual(JSON.parse(fromEnv.stdout), []);
  });

  it('refuses an invalid trust domain with exit 2', async () => {
    const r = await swarm(['--home', join(dir, 'td'), 'init', '--trust-domain', 'Bad Domain'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error SWARM_ERR_USAGE_INVALID: trust domain "Bad Domain" is invalid/);
  });

  it('prints the version of @swarm/cli', async () => {
    const pkg = JSON.parse(await readFile(new URL('../packages/cli/package.json', import.meta.url), 'utf8'));
    const r = await swarm(['--version'], env);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it('maps usage errors to exit 2 with SWARM_ERR_USAGE_INVALID', async () => {
    for (const args of [['bogus'], ['hosts', '--no-such-flag'], ['enroll', '--address', 'x']]) {
      const r = await swarm(args, env);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^error SWARM_ERR_USAGE_INVALID: .+\nhint: /, args.join(' '));
      assert.equal(r.stdout, '');
    }
    const bare = await swarm([], env);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /Usage: swarm/);
    assert.equal(bare.stdout, '');
  });

  it('gives every command a --help with examples', async () => {
    for (const command of ['init', 'enroll', 'hosts', 'decommission']) {
      const r = await swarm([command, '--help'], env);
      assert.equal(r.code, 0, command);
      assert.match(r.stdout, new RegExp(`Usage: swarm ${command}`));
      assert.match(r.stdout, /Examples:\n {2}\$ swarm /, command);
    }
  });
});
