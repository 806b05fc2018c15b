import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { swarmError } from '@swarm/errors';
import { OutputTail } from '../process/output-tail.js';
import { signalGroup } from '../process/process-group.js';
import { processIdentity, type ProcessIdentity } from '@swarm/release-dir';

/** Options of {@link runInstall}. */
export interface InstallOptions {
  /** release.json `install`. */
  readonly argv: readonly string[];
  /** The release directory (`releases/<id>`, not yet active). */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Aborted on shutdown: the command's group is killed. */
  readonly signal: AbortSignal;
  /** Called once the command runs, so the journal can name it for recovery. */
  readonly onSpawn?: (identity: ProcessIdentity) => Promise<void>;
}

const PIPE_DRAIN_MS = 1000;

/** Bytes of install output kept for the error body. */
export const INSTALL_OUTPUT_BYTES = 4096;

/**
 * Run a release's `install` command in its own process group with a timeout, keeping the
 * last 4 KB of its output. Resolves with that tail on exit 0; otherwise throws
 * SWARM_ERR_RELEASE_INSTALL_FAILED with `phase: 'install'`, the exit code or signal, and the
 * output tail — what an operator needs to fix the release.
 */
export async function runInstall(options: InstallOptions): Promise<{ output: string }> {
  const { argv, cwd, env, timeoutMs, signal } = options;
  signal.throwIfAborted();
  const [command, ...args] = argv;
  const tail = new OutputTail(INSTALL_OUTPUT_BYTES);
  const child = spawn(command!, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => tail.push(c));
  child.stderr.on('data', (c: Buffer) => tail.push(c));
  let timedOut = false;
  const kill = () => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  signal.addEventListener('abort', kill, { once: true });
  try {
    const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, sig: null, error }));
      child.once('exit', (code, sig) => resolve({ code, sig }));
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    if (child.pid !== undefined && options.onSpawn) {
      const identity = await processIdentity(child.pid);
      if (identity) await options.onSpawn(identity);
    }
    const { code, sig, error } = await exited;
    // A background process the command left in its group would hold the pipes open forever:
    // kill the group, then give the pipes a moment to deliver the last output.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    await Promise.race([closed, sleep(PIPE_DRAIN_MS)]);
    signal.throwIfAborted();
    const output = tail.toString();
    if (code === 0) return { output };
    const how = error
      ? `could not run: ${error.message}`
      : timedOut
        ? `did not finish within ${timeoutMs} ms and was killed`
        : sig
          ? `was killed by ${sig}`
          : `exited with code ${code}`;
    throw swarmError('SWARM_ERR_RELEASE_INSTALL_FAILED', `the install step (${argv.join(' ')}) ${how}`, {
      phase: 'install',
      exitCode: code,
      signal: sig,
      timedOut,
      output,
    });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', kill);
    // Whatever the install left behind in its group must not outlive the step.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  }
}
