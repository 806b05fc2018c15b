import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { swarmError, type SwarmError } from '@swarm/errors';

/** The exit status of a `--before-host` gate that means "not now, ask again" (sysexits EX_TEMPFAIL). */
export const GATE_NOT_NOW = 75;

/** The master-side commands around each host of a rollout (wiki/rollouts.md#gates-and-hooks). */
export interface HostGates {
  /** Run through `sh -c` before a host is touched: 0 go, 75 not now, anything else refused. */
  readonly beforeHost?: string;
  /** Run through `sh -c` once the host committed; a failure makes the host `failed`. */
  readonly afterHost?: string;
  /** How long to wait before asking a "not now" gate again (default 30 s). */
  readonly retryMs?: number;
  /** How long a gate may keep saying "not now" before the host is skipped (default 10 min). */
  readonly timeoutMs?: number;
  /** Where the commands' output goes (the CLI's stderr). */
  readonly output?: { write(chunk: string): unknown };
}

export const DEFAULT_GATE_RETRY_MS = 30_000;
export const DEFAULT_GATE_TIMEOUT_MS = 600_000;
/** How much of a command's output an error quotes. */
const TAIL_CHARS = 1000;

/** How a gate or hook command ended: its exit status (or null for a signal) and its last output. */
interface CommandRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly tail: string;
}

/**
 * Run `command` through `sh -c` with `env` added to this process's environment, its stdout
 * and stderr copied to `output` line by line under a `[host] ` prefix, and return how it ended
 * with the tail of what it printed (the shell's own message when the command does not exist).
 */
function runCommand(
  command: string,
  env: Readonly<Record<string, string>>,
  host: string,
  output: HostGates['output'],
  signal: AbortSignal,
): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    let tail = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-TAIL_CHARS);
      output?.write(
        text
          .split('\n')
          .filter((line, i, all) => line !== '' || i < all.length - 1)
          .map((line) => `[${host}] ${line}\n`)
          .join(''),
      );
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', (err) => resolve({ status: null, signal: null, tail: `${tail}${err.message}` }));
    child.once('close', (status, sig) => resolve({ status, signal: sig, tail: tail.trim() }));
  });
}

const how = (run: CommandRun) => (run.signal ? `was killed by ${run.signal}` : `exited ${run.status}`);
const quoted = (run: CommandRun) => (run.tail ? `: ${run.tail}` : '');

/**
 * The `--before-host` gate of one host: resolves null when it said go (exit 0), else the
 * error of the host's result — SWARM_ERR_GATE_REFUSED for any status but 0 and 75 (a command
 * that does not exist exits 127 from the shell), SWARM_ERR_GATE_TIMEOUT when it kept
 * answering 75 for longer than the timeout.
 */
export async function passGate(
  gates: HostGates,
  env: Readonly<Record<string, string>>,
  host: string,
  signal: AbortSignal,
): Promise<SwarmError | null> {
  if (!gates.beforeHost) return null;
  const retryMs = gates.retryMs ?? DEFAULT_GATE_RETRY_MS;
  const deadline = Date.now() + (gates.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS);
  for (let asked = 1; ; asked += 1) {
    const run = await runCommand(gates.beforeHost, env, host, gates.output, signal);
    if (run.status === 0) return null;
    if (run.status !== GATE_NOT_NOW) {
      return swarmError('SWARM_ERR_GATE_REFUSED', `the --before-host gate ${how(run)} for ${host}${quoted(run)}`);
    }
    if (Date.now() + retryMs > deadline) {
      return swarmError(
        'SWARM_ERR_GATE_TIMEOUT',
        `the --before-host gate said "not now" (exit ${GATE_NOT_NOW}) ${asked} time(s) for ${host}; gave up after --gate-timeout`,
      );
    }
    gates.output?.write(`[${host}] gate: not now (exit ${GATE_NOT_NOW}); asking again in ${retryMs} ms\n`);
    try {
      await sleep(retryMs, undefined, { signal });
    } catch {
      return swarmError('SWARM_ERR_ROLLOUT_INTERRUPTED', `interrupted while the gate of ${host} said "not now"`);
    }
  }
}

/** The `--after-host` hook of one host that committed: null when it succeeded, else SWARM_ERR_HOOK_FAILED. */
export async function runAfterHook(
  gates: HostGates,
  env: Readonly<Record<string, string>>,
  host: string,
  signal: AbortSignal,
): Promise<SwarmError | null> {
  if (!gates.afterHost) return null;
  const run = await runCommand(gates.afterHost, env, host, gates.output, signal);
  if (run.status === 0) return null;
  return swarmError('SWARM_ERR_HOOK_FAILED', `the --after-host hook ${how(run)} for ${host}${quoted(run)}`);
}
