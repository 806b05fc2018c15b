import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ensurePrivateDir, writeFileAtomic } from '../src/index.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('private files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-files-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a key 0600 by default, replaces it atomically and leaves no temp file', async () => {
    const key = join(dir, 'x.key');
    await writeFileAtomic(key, 'first');
    assert.equal(await mode(key), PRIVATE_FILE_MODE);
    await writeFileAtomic(key, 'second');
    assert.equal(await readFile(key, 'utf8'), 'second');
    await writeFileAtomic(join(dir, 'x.crt'), 'public', 0o644);
    assert.equal(await mode(join(dir, 'x.crt')), 0o644);
    assert.deepEqual((await readdir(dir)).sort(), ['x.crt', 'x.key']);
  });

  it('fails without leaving a temp file when the directory is missing', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x.key'), 'k'), { code: 'ENOENT' });
    assert.deepEqual(
      (await readdir(dir)).filter((e) => e.endsWith('.tmp')),
      [],
    );
  });

  it('makes a private directory 0700, narrowing one that exists', async () => {
    const p = join(dir, 'keys');
    await mkdir(p, { mode: 0o755 });
    await ensurePrivateDir(p);
    assert.equal(await mode(p), PRIVATE_DIR_MODE);
    await ensurePrivateDir(join(dir, 'new', 'nested'));
    assert.equal(await mode(join(dir, 'new', 'nested')), PRIVATE_DIR_MODE);
  });
});
