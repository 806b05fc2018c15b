import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PkiFixture } from './package-helpers.js';
import { call, multipart, pidAlive, type Answer } from './package-helpers.js';

const SWARM_BIN = fileURLToPath(new URL('../../../packages/cli/bin/swarm.js', import.meta.url));

/** The directories and ports of one worker run by a real `swarm updater --self-dir` process. */
export interface SupervisedHostDirs {
  /** Everything of the host is below it; supervisors run with it as their working directory. */
  readonly root: string;
  readonly selfDir: string;
  readonly installDir: string;
  readonly port: number;
  readonly agentPort: number;
  /** Where every supervisor of the host and its updaters log (appended). */
  readonly log: string;
}

/** One `swarm updater` process (the supervisor) and how it ended. */
export interface SupervisorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What POST /update-self answered: 202 with the attempt it names, an error, or nothing. */
export type SelfPushAnswer =
  | { readonly status: number; readonly attempt: string | null; readonly body: any }
  | { readonly status: null; readonly lost: string };

/**
 * A worker as production runs it: `swarm updater --bundle … --install-dir … --self-dir …` as
 * a process (the supervisor, from packages/cli/bin/swarm.js), which starts the updater from
 * `<self-dir>/current` — a bundled updater release, run with plain node — and the updater the
 * agent. Restarting the supervisor is what systemd's `Restart=always` does.
 */
export class SupervisedHost {
  supervisor: SupervisorProcess | null = null;

  constructor(
    readonly fx: PkiFixture,
    readonly dirs: SupervisedHostDirs,
    /** Extra `swarm updater` flags. */
    readonly flags: readonly string[] = [],
  ) {}

  /** Start a supervisor with `env` added (e.g. SWARM_TEST_KILL_AT); does not wait for anything. */
  start(env: Record<string, string> = {}): SupervisorProcess {
    const { dirs } = this;
    const log = openSync(dirs.log, 'a');
    const child = spawn(
      process.execPath,
      [SWARM_BIN, 'updater', '--bundle', this.fx.bundleDir, '--install-dir', dirs.installDir,
        '--self-dir', dirs.selfDir, '--listen', `127.0.0.1:${dirs.port}`, '--agent-port', String(dirs.agentPort),
        ...this.flags], // prettier-ignore
      {
        cwd: dirs.root,
        // Nothing of the test runner's environment (no tsx loader): the supervisor and its
        // updaters run as on a worker.
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dirs.root, SWARM_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', log, log],
        // Its own process group (supervisor + updaters), as under systemd; the agent has its own.
        detached: true,
      },
    );
    closeSync(log);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.supervisor = { child, pid: child.pid!, exited };
    return this.supervisor;
  }

  /** Stop the running supervisor with `signal` and wait until it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const s = this.supervisor;
    if (!s) return { code: null, signal: null };
    this.supervisor = null;
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
    return s.exited;
  }

  /** GET /health as the master (fresh connection). */
  health(): Promise<Answer> {
    return call({ port: this.dirs.port, path: '/health', caPem: this.fx.ca.certPem, client: this.fx.master });
  }

  /** POST /update-self of a packed updater release, as the master. */
  async pushSelf(release: { file: string; sha256: string; size: number }): Promise<SelfPushAnswer> {
    const body = await multipart([
      { name: 'sha256', value: release.sha256 },
      { name: 'size', value: String(release.size) },
      { name: 'tarball', filename: 'updater.tgz', path: release.file },
    ]);
    try {
      const answer = await call({
        port: this.dirs.port,
        method: 'POST',
        path: '/update-self',
        caPem: this.fx.ca.certPem,
        client: this.fx.master,
        headers: { 'content-type': body.contentType, 'content-length': body.length },
        body: body.stream,
      });
      const attempt = typeof answer.body?.attempt === 'string' ? (answer.body.attempt as string) : null;
      return { status: answer.status, attempt, body: answer.body };
    } catch (err) {
      return { status: null, lost: (err as Error).message };
    }
  }

  /**
   * The updater processes of this host: every live process whose working directory is in the
   * self directory (an updater runs from `<self-dir>/releases/<id>`; nothing else does).
   */
  async updaters(): Promise<number[]> {
    const pids: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
      if (!cwd.startsWith(this.dirs.selfDir + sep)) continue;
      // An updater, not a `sync -f` its staging spawned there: updaters carry --self-dir.
      const argv = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (argv.split('\0').includes('--self-dir') && (await pidAlive(Number(name)))) pids.push(Number(name));
    }
    return pids.sort((a, b) => a - b);
  }

  /** The agent's PID as `<install-dir>/agent.pid` records it (null: none). */
  async agentPid(): Promise<number | null> {
    try {
      const text = await readFile(join(this.dirs.installDir, 'agent.pid'), 'utf8');
      return /^[1-9][0-9]*\n$/.test(text) ? Number(text.trim()) : null;
    } catch {
      return null;
    }
  }

  /** The supervisor's journal, `<self-dir>/state.json`. */
  async selfState(): Promise<any> {
    return JSON.parse(await readFile(join(this.dirs.selfDir, 'state.json'), 'utf8'));
  }

  /** The JSON log lines of the host's supervisors and updaters so far (other lines skipped). */
  async logLines(): Promise<any[]> {
    const text = await readFile(this.dirs.log, 'utf8').catch(() => '');
    const lines: any[] = [];
    for (const line of text.split('\n')) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // Not a pino line (a broken updater's own output).
      }
    }
    return lines;
  }

  /** The last `lines` lines of the log, for a failure message. */
  async logTail(lines = 20): Promise<string> {
    const text = await readFile(this.dirs.log, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

/** The parent PID of a live process (null when it is gone). */
export async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}
