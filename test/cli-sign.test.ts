// swarm keygen and swarm sign (SPEC §12, the part built so far; wiki/signing.md): the real CLI
// in-process, a real release tarball, the envelope checked with @swarm/signing's verifier.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEnvelope, readTrustedKeys, verifyRelease } from '@swarm/signing';
import { swarm } from './cli-harness.js';
import { agentRelease } from './e2e/helpers/release-trees.js';

describe('swarm keygen and swarm sign', () => {
  let dir: string;
  let tarball: string;
  let packed: { name: string; version: string; sha256: string; size: number };
  const env = () => ({ HOME: dir, SWARM_HOME: join(dir, 'home') });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-cli-sign-'));
    const tree = await agentRelease(join(dir, 'tree'), '1.4.2');
    tarball = join(dir, 'web.tgz');
    const pack = await swarm(['pack', '--tree', tree, '-o', tarball, '--json'], env());
    assert.equal(pack.code, 0, pack.stderr);
    packed = JSON.parse(pack.stdout);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen writes the pair and prints its key id; it never overwrites a key', async () => {
    const r = await swarm(['keygen', '--out', join(dir, 'k1'), '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout) as { keyid: string; key: string; pub: string };
    assert.match(made.keyid, /^[0-9a-f]{16}$/);
    assert.equal((await stat(made.key)).mode & 0o777, 0o600);
    const again = await swarm(['keygen', '--out', join(dir, 'k1')], env());
    assert.equal(again.code, 2);
    assert.match(again.stderr, /SWARM_ERR_USAGE_INVALID: .*never overwrites/);
  });

  it('sign writes <tarball>.sig, a DSSE envelope over the statement that verifies with release.pub', async () => {
    const r = await swarm(['sign', '--key', join(dir, 'k1', 'release.key'), '--tarball', tarball, '--expires', '30d', '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { file: string; keyid: string; statement: { expires: string } };
    assert.equal(out.file, `${tarball}.sig`);
    const envelope = parseEnvelope(await readFile(out.file));
    const trusted = await readTrustedKeys(join(dir, 'k1', 'release.pub'));
    const verified = verifyRelease(envelope, packed, trusted);
    assert.equal(verified.keyid, out.keyid);
    assert.equal(verified.statement.allowDowngrade, false);
    const days = (Date.parse(out.statement.expires) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
  });

  it('a second key adds its signature to the same envelope (a rotation), and both keys verify it', async () => {
    assert.equal((await swarm(['keygen', '--out', join(dir, 'k2')], env())).code, 0);
    const r = await swarm(['sign', '--key', join(dir, 'k2', 'release.key'), '--tarball', tarball], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /added a signature to .*2 signature\(s\)/);
    const envelope = parseEnvelope(await readFile(`${tarball}.sig`));
    assert.equal(envelope.signatures.length, 2);
    for (const k of ['k1', 'k2']) {
      const trusted = await readTrustedKeys(join(dir, k, 'release.pub'));
      assert.equal(verifyRelease(envelope, packed, trusted).keyid, trusted[0]!.keyid);
    }
  });

  it('refuses a key that is not Ed25519, a tarball that is not a release, and an existing envelope that is not one', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(join(dir, 'rsa.key'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const badKey = await swarm(['sign', '--key', join(dir, 'rsa.key'), '--tarball', tarball, '-o', join(dir, 'x.sig')], env());
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /SWARM_ERR_USAGE_INVALID: .*Ed25519/);
    await writeFile(join(dir, 'junk.tgz'), 'not a tarball');
    const junk = await swarm(['sign', '--key', join(dir, 'k1', 'release.key'), '--tarball', join(dir, 'junk.tgz')], env());
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /SWARM_ERR_ARCHIVE_CORRUPT/);
    await writeFile(join(dir, 'garbage.sig'), 'garbage');
    const garbage = await swarm(['sign', '--key', join(dir, 'k1', 'release.key'), '--tarball', tarball, '-o', join(dir, 'garbage.sig')], env());
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /SWARM_ERR_SIGNATURE_INVALID: the signature envelope is not JSON/);
    assert.equal(await readFile(join(dir, 'garbage.sig'), 'utf8'), 'garbage', 'left as it was');
    const badExpiry = await swarm(['sign', '--key', join(dir, 'k1', 'release.key'), '--tarball', tarball, '--expires', 'soon'], env());
    assert.equal(badExpiry.code, 2);
  });
});
