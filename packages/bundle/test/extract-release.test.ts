import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { extractRelease, packRelease, syncTree, DEFAULT_EXTRACT_LIMITS } from '../src/index.js';
import { manifestEntry, tgz } from './helpers/raw-tar.js';

let base: string;
/** A release of 2 000 small files in 20 directories, packed once for the whole file. */
let bigTarball: string;
/** A release of two files, for the tests that need no volume. */
let smallTarball: string;
let counter = 0;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'swarm-extract-'));
  const tree = join(base, 'big-tree');
  await mkdir(tree);
  await writeFile(
    join(tree, 'release.json'),
    JSON.stringify({ name: 'big', version: '1.0.0', start: ['node', 'x.js'] }),
  );
  for (let d = 0; d < 20; d++) {
    await mkdir(join(tree, `d${d}`));
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => writeFile(join(tree, `d${d}`, `f${i}.txt`), `${d}/${i} `.repeat(200 + i))),
    );
  }
  bigTarball = (await packRelease({ tree, out: join(base, 'big.tgz') })).file;
  smallTarball = join(base, 'small.tgz');
  await writeFile(smallTarball, tgz([manifestEntry(), { name: 'a.txt', body: 'a' }]));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

function freshDir(): string {
  return join(base, `dest-${++counter}`);
}

async function countEntries(dir: string): Promise<number> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    let names;
    try {
      names = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      n++;
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return n;
}

describe('extractRelease', () => {
  test('extracts a release and reports its manifest, entries and bytes', async () => {
    const dest = freshDir();
    const result = await extractRelease(bigTarball, dest);
    assert.equal(result.manifest.name, 'big');
    assert.equal(result.entries, 1 + 20 + 2000);
    assert.equal(await countEntries(dest), 1 + 20 + 2000);
    assert.equal(await readFile(join(dest, 'd7/f5.txt'), 'utf8'), '7/5 '.repeat(205));
  });

  test('extracts what GNU tar writes (./ prefixes, POSIX/PAX format) like GNU tar does', async () => {
    const tree = join(base, `gnu-${++counter}`);
    await mkdir(join(tree, 'lib'), { recursive: true });
    await writeFile(join(tree, 'release.json'), JSON.stringify({ name: 'gnu', version: '2', start: ['x'] }));
    await writeFile(join(tree, 'lib', `${'n'.repeat(150)}.js`), 'long name');
    const file = join(base, `gnu-${counter}.tgz`);
    for (const format of ['gnu', 'posix']) {
      execFileSync('tar', [`--format=${format}`, '-czf', file, '-C', tree, '.']);
      const dest = freshDir();
      const result = await extractRelease(file, dest);
      assert.equal(result.manifest.name, 'gnu', format);
      assert.equal(await readFile(join(dest, 'lib', `${'n'.repeat(150)}.js`), 'utf8'), 'long name', format);
    }
  });

  test('creates a missing destination and accepts an empty one', async () => {
    const nested = join(freshDir(), 'a', 'b');
    await extractRelease(smallTarball, nested);
    assert.ok((await stat(join(nested, 'release.json'))).isFile());
    const empty = freshDir();
    await mkdir(empty);
    await extractRelease(smallTarball, empty);
    assert.ok((await stat(join(empty, 'release.json'))).isFile());
  });

  test('refuses a destination that is not empty (it would mix two releases)', async () => {
    const dest = freshDir();
    await mkdir(dest);
    await writeFile(join(dest, 'leftover'), 'x');
    await assert.rejects(extractRelease(smallTarball, dest), {
      code: 'SWARM_ERR_ARCHIVE_WRITE_FAILED',
      message: /not empty/,
    });
    assert.deepEqual(await readdir(dest), ['leftover']);
  });

  test('refuses invalid limits, naming each one', async () => {
    await assert.rejects(
      extractRelease(bigTarball, freshDir(), { limits: { maxEntries: 0, maxDepth: 1.5 } }),
      (err: any) => {
        assert.equal(err.code, 'SWARM_ERR_CONFIG_INVALID');
        assert.equal(err.details.problems.length, 2);
        return true;
      },
    );
    assert.equal(DEFAULT_EXTRACT_LIMITS.maxEntries, 100_000);
  });

  test('a missing tarball is reported as an error, not a hang', async () => {
    await assert.rejects(extractRelease(join(base, 'nope.tgz'), freshDir()), { code: 'ENOENT' });
  });

  test('the caller event loop keeps serving HTTP while extracting (extraction runs in a worker)', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dest = freshDir();
    let settled = false;
    const extraction = extractRelease(bigTarball, dest).finally(() => {
      settled = true;
    });
    let answeredMidway = 0;
    try {
      while (!settled) {
        await new Promise<void>((resolve, reject) => {
          get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          }).on('error', reject);
        });
        // Count the answers given while files were being written, before the end.
        if (!settled && (await countEntries(dest)) > 0 && !settled) answeredMidway++;
      }
      await extraction;
    } finally {
      server.close();
    }
    assert.ok(answeredMidway > 0, 'no HTTP answer while the extraction was writing files');
  });

  test('an already aborted signal rejects at once and writes nothing', async () => {
    const dest = freshDir();
    const reason = new Error('operator cancelled');
    await assert.rejects(
      extractRelease(bigTarball, dest, { signal: AbortSignal.abort(reason) }),
      (err) => err === reason,
    );
    await assert.rejects(stat(dest), { code: 'ENOENT' });
  });

  test('aborting mid-way rejects with the reason only after writes stopped', async () => {
    const dest = freshDir();
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const extraction = extractRelease(bigTarball, dest, { signal: controller.signal });
    let outcome: 'pending' | 'settled' = 'pending';
    void extraction.catch(() => {}).finally(() => (outcome = 'settled'));
    // Abort as soon as the worker has started writing.
    while (outcome === 'pending' && (await countEntries(dest)) === 0) await sleep(1);
    controller.abort(reason);
    await assert.rejects(extraction, (err) => err === reason);
    const written = await countEntries(dest);
    assert.ok(written < 1 + 20 + 2000, 'the extraction ran to the end despite the abort');
    await sleep(50);
    assert.equal(await countEntries(dest), written, 'writes continued after the promise settled');
    await rm(dest, { recursive: true });
  });

  test('works from the built package too (the dist worker file resolves next to dist/index.js)', async () => {
    const dist = (await import('@swarm/bundle')) as typeof import('../src/index.js');
    const dest = freshDir();
    const result = await dist.extractRelease(smallTarball, dest);
    assert.equal(result.entries, 2);
    await assert.rejects(dist.extractRelease(smallTarball, dest), { code: 'SWARM_ERR_ARCHIVE_WRITE_FAILED' });
  });
});

describe('syncTree', () => {
  test('syncs an extracted tree', async () => {
    const dest = freshDir();
    await extractRelease(smallTarball, dest);
    await syncTree(dest);
    assert.ok((await stat(join(dest, 'release.json'))).isFile());
  });

  test('rejects a directory that does not exist', async () => {
    await assert.rejects(syncTree(join(base, 'no-such-dir')), { code: 'ENOENT' });
  });
});
