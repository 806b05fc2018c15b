import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '@swarm/errors';
import { Journal } from '../../src/journal/journal.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarm-journal-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const release = (n: number) => ({
  id: `${n}.0.0-${'a'.repeat(12)}`,
  name: 'web',
  version: `${n}.0.0`,
  sha256: 'a'.repeat(64),
  installedAt: new Date(n).toISOString(),
});

describe('Journal (state.json)', () => {
  it('starts empty without a file, and writes every change through to disk, leaving no temp file', async () => {
    const path = join(dir, 'state.json');
    const journal = await Journal.open(path, 3);
    assert.equal(journal.current.active, null);
    await journal.update((s) => ({ ...s, active: release(1), releases: [release(1)] }));
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(onDisk.schema, 1);
    assert.equal(onDisk.active.id, release(1).id);
    assert.deepEqual(await readdir(dir), ['state.json']);
    const reopened = await Journal.open(path, 3);
    assert.deepEqual(reopened.current, journal.current);
  });

  it('bounds the history to historyLimit, dropping the oldest', async () => {
    const path = join(dir, 'bounded.json');
    const journal = await Journal.open(path, 3);
    for (let i = 1; i <= 5; i += 1) {
      await journal.update((s) => ({
        ...s,
        history: [
          ...s.history,
          {
            id: String(i),
            kind: 'update',
            release: null,
            outcome: 'failed',
            phase: 'verify',
            error: null,
            startedAt: '',
            finishedAt: '',
          },
        ],
      }));
    }
    assert.deepEqual(
      journal.current.history.map((h) => h.id),
      ['3', '4', '5'],
    );
  });

  it('serializes concurrent changes: none is lost', async () => {
    const journal = await Journal.open(join(dir, 'concurrent.json'), 100);
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) => journal.update((s) => ({ ...s, releases: [...s.releases, release(n)] }))),
    );
    assert.equal(journal.current.releases.length, 5);
  });

  it('refuses an unreadable journal with UPDATER_JOURNAL_INVALID rather than starting blind', async () => {
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{"schema": 1, "active": ');
    await assert.rejects(Journal.open(path, 3), (err: unknown) => hasCode(err, 'SWARM_ERR_UPDATER_JOURNAL_INVALID'));
    await writeFile(path, '{"something": "else"}');
    await assert.rejects(Journal.open(path, 3), (err: unknown) => hasCode(err, 'SWARM_ERR_UPDATER_JOURNAL_INVALID'));
  });

  it('a failed write is UPDATER_JOURNAL_WRITE_FAILED, keeps the old state, and is remembered until a write succeeds', async () => {
    // A real failure, even as root: the directory of state.json is gone, so its temp file cannot be created.
    const sub = join(dir, 'vanishing');
    await mkdir(sub);
    const path = join(sub, 'state.json');
    const journal = await Journal.open(path, 3);
    await journal.update((s) => ({ ...s, active: release(1), releases: [release(1)] }));
    assert.equal(journal.writeFailure, null);
    await rm(sub, { recursive: true });
    await assert.rejects(
      journal.update((s) => ({ ...s, active: release(2) })),
      (err: any) => {
        assert.equal(err.code, 'SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED');
        assert.equal(err.details.path, path);
        assert.equal(err.details.errno, 'ENOENT');
        assert.match(err.message, /cannot write the journal .*state\.json: ENOENT/);
        return true;
      },
    );
    assert.equal(journal.current.active?.id, release(1).id, 'memory moved ahead of the disk');
    assert.equal(journal.writeFailure?.errno, 'ENOENT');
    await mkdir(sub);
    await journal.update((s) => ({ ...s, active: release(3) }));
    assert.equal(journal.writeFailure, null);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).active.id, release(3).id);
  });
});
