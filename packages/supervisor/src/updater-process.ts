import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { isStartFailureReport, type StartFailureReport } from '@swarm/protocol';

/** How long to wait, after an updater exited, for the messages it sent just before. */
const LAST_WORDS_MS = 2000;

/**
 * Listen, from the moment `child` is spawned, for the {@link StartFailureReport} it may send.
 * The returned function resolves with it (or null) once the child has exited: it waits for
 * the IPC channel to close — the 'close' event comes after every message sent — but no more
 * than {@link LAST_WORDS_MS}, should a process the updater started hold the channel open.
 */
export function watchStartFailure(child: ChildProcess): () => Promise<StartFailureReport['error'] | null> {
  let report: StartFailureReport['error'] | null = null;
  child.on('message', (message: unknown) => {
    if (isStartFailureReport(message)) report = message.error;
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return async () => {
    await exited(child);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_WORDS_MS)))]);
    clearTimeout(timer);
    return report;
  };
}

/** Options for starting one updater process from a release directory. */
export interface StartOptions {
  /** The release directory (resolved, not through `current`). */
  readonly releaseDir: string;
  /** Flags passed to the updater after the release's own `start` arguments. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Start the updater of a release: its `release.json` `start`, from its directory, with an IPC
 * channel (the updater asks for a self-update through it, and exits when it closes, so an
 * updater never outlives its supervisor). `node` is this Node binary: a service manager's
 * PATH need not contain it.
 */
export async function startUpdaterProcess(options: StartOptions): Promise<ChildProcess> {
  const dir = await realpath(options.releaseDir);
  const manifest = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as { start?: unknown };
  const start = manifest.start;
  if (!Array.isArray(start) || start.length === 0 || !start.every((s) => typeof s === 'string')) {
    throw new Error(`${dir}/release.json has no valid start command`);
  }
  const [command, ...args] = start as string[];
  return spawn(command === 'node' ? process.execPath : command!, [...args, ...options.args], {
    cwd: dir,
    env: options.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Resolves with the exit code (or signal) once the process has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 1)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited once the process is gone. */
export async function stopProcess(child: ChildProcess, graceMs: number): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) return exited(child);
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const exit = await gone;
  clearTimeout(timer);
  return exit;
}
