import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PkiFixture } from './pki-fixture.js';

const ENTRY = fileURLToPath(new URL('../fixtures/updater-main.ts', import.meta.url));

/** An updater running as its own process (the test entry, under tsx). */
export interface UpdaterProcess {
  readonly child: ChildProcess;
  /** Resolves with the port once it listens; rejects if it exits first. */
  readonly ready: Promise<{ port: number; pid: number }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
}

/** Start `updater-main.ts` with flags (`--install-dir` …) and extra environment. */
export function spawnUpdater(
  fx: PkiFixture,
  flags: Record<string, string | number>,
  env: Record<string, string> = {},
): UpdaterProcess {
  const args = ['--bundle', fx.bundleDir, '--listen', '127.0.0.1:0'];
  for (const [flag, value] of Object.entries(flags)) args.push(flag, String(value));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    env: { ...process.env, SWARM_LOG_LEVEL: process.env.SWARM_TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (process.env.SWARM_TEST_LOG_LEVEL) process.stderr.write(c);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<{ port: number; pid: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"ready"'));
      if (line) resolve(JSON.parse(line) as { port: number; pid: number });
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`the updater exited (${code ?? signal}) before it was ready: ${err}`)),
    );
  });
  ready.catch(() => undefined);
  return { child, ready, exited, stderr: () => err };
}
