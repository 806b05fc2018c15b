// Issue 4 acceptance for `swarm pack`, through the real CLI: reproducible digests, invalid
// trees refused with every problem listed, secrets never shipped (checked with GNU tar).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { swarm } from '../cli-harness.js';
import { agentRelease } from './helpers/release-trees.js';
import type { PackJson } from './helpers/rollout-json.js';

describe('swarm pack (issue 4)', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-e2e-pack-'));
    env = { HOME: dir, SWARM_HOME: join(dir, 'home'), PATH: process.env.PATH ?? '/usr/bin:/bin' };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pack = async (tree: string, out: string) => {
    const res = await swarm(['pack', '--tree', tree, '-o', out, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as PackJson;
  };

  /** A release tree with nested files and, unless `clean`, the secrets that must never ship. */
  const releaseTree = async (name: string, { clean = false } = {}) => {
    const tree = await agentRelease(join(dir, name), '1.2.3');
    await mkdir(join(tree, 'lib', 'deep'), { recursive: true });
    await writeFile(join(tree, 'lib', 'deep', 'data.txt'), 'shipped\n');
    await writeFile(join(tree, 'lib', 'z.txt'), 'shipped too\n');
    if (clean) return tree;
    await writeFile(join(tree, 'server.key'), 'PRIVATE KEY\n', { mode: 0o600 });
    await writeFile(join(tree, 'lib', 'deep', 'tls.key'), 'PRIVATE KEY\n', { mode: 0o600 });
    await writeFile(join(tree, 'cert.pem'), 'CERT\n');
    await writeFile(join(tree, '.env'), 'TOKEN=secret\n');
    await writeFile(join(tree, '.env.production'), 'TOKEN=secret\n');
    await mkdir(join(tree, '.git'));
    await writeFile(join(tree, '.git', 'config'), '[core]\n');
    return tree;
  };

  it('the same tree packed twice gives the identical tarball and sha256, even after its files are touched', async () => {
    const tree = await releaseTree('same', { clean: true });
    const a = await pack(tree, join(dir, 'a.tgz'));
    // Other mtimes (and a new atime) must not change a byte: times are fixed in the archive.
    const later = new Date(Date.now() + 3_600_000);
    for (const entry of await readdir(tree, { recursive: true })) await utimes(join(tree, entry), later, later);
    const b = await pack(tree, join(dir, 'b.tgz'));

    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    assert.equal(b.sha256, a.sha256);
    const [bytesA, bytesB] = await Promise.all([readFile(a.file), readFile(b.file)]);
    assert.ok(bytesA.equals(bytesB), 'byte-for-byte identical');
    assert.equal(createHash('sha256').update(bytesA).digest('hex'), a.sha256, 'the printed digest is the file digest');
    assert.equal(a.size, (await stat(a.file)).size);
    assert.deepEqual([a.name, a.version], ['agent', '1.2.3']);
  });

  it('*.key, *.pem, .env* and .git are not in the tarball (tar tzf)', async () => {
    const tree = await releaseTree('secrets');
    const packed = await pack(tree, join(dir, 'secrets.tgz'));
    const entries = execFileSync('tar', ['tzf', packed.file], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const shipped of ['release.json', 'agent.mjs', 'lib/deep/data.txt', 'lib/z.txt']) {
      assert.ok(entries.includes(shipped), `${shipped} is in the tarball: ${entries.join(', ')}`);
    }
    const leaked = entries.filter((e) => /\.key$|\.pem$|(^|\/)\.env(\.|$)|(^|\/)\.git(\/|$)/.test(e));
    assert.deepEqual(leaked, []);
    // The same tree without the secrets gives the same bytes: they were left out, not emptied.
    const clean = await pack(await releaseTree('secrets-clean', { clean: true }), join(dir, 'clean.tgz'));
    assert.equal(clean.sha256, packed.sha256);
  });

  const refused = async (tree: string) => {
    const out = join(dir, 'refused.tgz');
    const res = await swarm(['pack', '--tree', tree, '-o', out], env);
    assert.equal(res.code, 2, `exit code (stderr: ${res.stderr})`);
    assert.equal(res.stdout, '', 'nothing on stdout');
    assert.equal(existsSync(out), false, 'no tarball written');
    return res.stderr;
  };

  it('a tree without release.json: exit 2, the problem named', async () => {
    const tree = join(dir, 'empty');
    await mkdir(tree);
    await writeFile(join(tree, 'app.js'), '');
    const stderr = await refused(tree);
    assert.match(stderr, /SWARM_ERR_RELEASE_MANIFEST_MISSING/);
    assert.match(stderr, /release\.json/);
  });

  it('a release.json that is not JSON: exit 2, the parse error listed', async () => {
    const tree = join(dir, 'not-json');
    await mkdir(tree);
    await writeFile(join(tree, 'release.json'), '{ "name": "web", ');
    const stderr = await refused(tree);
    assert.match(stderr, /SWARM_ERR_RELEASE_MANIFEST_INVALID/);
    assert.match(stderr, /not valid JSON/);
  });

  it('an invalid release.json: exit 2 with every problem listed at once', async () => {
    const tree = join(dir, 'invalid');
    await mkdir(tree);
    await writeFile(join(tree, 'release.json'), JSON.stringify({ name: '', version: 3, start: [] }));
    const stderr = await refused(tree);
    assert.match(stderr, /SWARM_ERR_RELEASE_MANIFEST_INVALID/);
    assert.match(stderr, /3 problems/);
    for (const field of ['name', 'version', 'start']) assert.match(stderr, new RegExp(`^\\s*- ${field}:`, 'm'));
  });
});
