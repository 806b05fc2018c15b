import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { openRegistry } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Each commit is fsynced (synchronous=FULL), so a few dozen per writer already make the
// writers queue on the lock for most of their run.
const WRITERS = 4;
const HOSTS = 12;
const writer = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));

interface Writer {
  child: ChildProcess;
  lines: AsyncIterator<string>;
  stderr: string[];
}

function startWriter(path: string, prefix: string, count: number): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, path, prefix, String(count)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator](), stderr };
}

async function nextLine(w: Writer): Promise<string> {
  const { value, done } = await w.lines.next();
  if (done) throw new Error(`writer ended early: ${w.stderr.join('')}`);
  return value;
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('concurrent swarm commands on one registry', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-registry-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Several real processes, all released at the same instant, each writing one transaction
  // per host: every row must land and no process may see SQLITE_BUSY.
  for (const fresh of [false, true]) {
    it(`keeps every write of 4 simultaneous writers (${fresh ? 'fresh file, opened concurrently' : 'existing registry'})`, async () => {
      const path = join(dir, `${fresh ? 'fresh' : 'existing'}.db`);
      if (!fresh) openRegistry(path).close();
      const writers = Array.from({ length: WRITERS }, (_, i) => startWriter(path, `w${i}`, HOSTS));
      try {
        for (const w of writers) assert.equal(await nextLine(w), 'ready', w.stderr.join(''));
        for (const w of writers) w.child.stdin!.end('go\n');
        for (const w of writers) {
          assert.equal(await nextLine(w), `done ${HOSTS}`, w.stderr.join(''));
          assert.equal(await exitCode(w.child), 0, w.stderr.join(''));
          assert.doesNotMatch(w.stderr.join(''), /BUSY|locked/i);
        }
      } finally {
        for (const w of writers) w.child.kill();
      }

      const registry = openRegistry(path);
      try {
        const names = registry.listHosts().map((h) => h.name);
        assert.equal(names.length, WRITERS * HOSTS);
        for (let i = 0; i < WRITERS; i++)
          for (let j = 0; j < HOSTS; j++) assert.ok(names.includes(`w${i}-${j}`), `w${i}-${j} missing`);
        const ops = registry.listOperations();
        assert.equal(ops.length, WRITERS);
        for (const op of ops) {
          assert.equal(op.status, 'succeeded');
          assert.equal(op.hosts.length, HOSTS);
        }
      } finally {
        registry.close();
      }
    });
  }
});
