import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swarm, type CliResult } from '../../cli-harness.js';
import { masterIdentity, mtlsGet, type TlsIdentity } from './mtls-get.js';
import { childrenOf, isAlive, killGroup, killPid, processesUnder } from './processes.js';
import { repoRoot } from './release-trees.js';
import { waitFor } from './wait-for.js';
import type { UpdaterHealth } from '@swarm/protocol';

export const swarmBin = join(repoRoot, 'packages/cli/bin/swarm.js');

/** One worker of the fleet: its bundle, directories, ports and running supervisor. */
export interface FleetHost {
  readonly name: string;
  /** The worker bundle the updater runs with (a re-enrollment writes a new one). */
  bundle: string;
  readonly installDir: string;
  readonly selfDir: string;
  readonly port: number;
  readonly agentPort: number;
  /** Extra `swarm updater` flags of this host. */
  readonly flags: readonly string[];
  /** The `swarm updater` process (the supervisor), while it runs. */
  supervisor: ChildProcess | null;
  /** Where its supervisor and updaters log. */
  readonly log: string;
}

/** Options of {@link Fleet.create}. */
export interface FleetOptions {
  /** Names the temp directory, to tell fleets apart when debugging. */
  readonly name: string;
  /** Hosts enrolled with `--updater` and started, in this order. */
  readonly hosts: readonly string[];
  /** Extra `swarm updater` flags for a host. */
  readonly updaterFlags?: (host: string) => readonly string[];
}

/** A process started with {@link Fleet.spawnCli}, and how it ended. */
export interface CliChild {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Short timings for every updater of the suite: the probe windows of wiki/reference/guarantees.md#defaults-and-limits are seconds long. */
const FAST_FLAGS = ['--healthy-for-ms', '300', '--probe-interval-ms', '50', '--stop-timeout-ms', '2000'];

/**
 * A real local fleet driven through the real CLI: a master home (`swarm init`), hosts
 * enrolled with `swarm enroll --updater`, and for each a `swarm updater` process (supervisor
 * + updater, like scripts/demo.mjs) on a free loopback port. Commands run in-process
 * (test/cli-harness.ts) or as child processes ({@link spawnCli}). {@link close} kills every
 * process the fleet started — supervisors, updaters, agents, CLI children — and fails if
 * one survives.
 */
export class Fleet {
  readonly hosts = new Map<string, FleetHost>();
  private readonly children = new Set<ChildProcess>();
  /** Every PID the fleet learned of (agents, updaters), checked dead on close. */
  private readonly seen = new Set<number>();

  private constructor(
    /** The temp root: every file and every process's cwd is under it. */
    readonly root: string,
    readonly home: string,
    /** The whole environment of the in-process CLI. */
    readonly env: Record<string, string>,
    readonly identity: TlsIdentity,
  ) {}

  static async create(options: FleetOptions): Promise<Fleet> {
    const root = await mkdtemp(join(tmpdir(), `swarm-e2e-${options.name}-`));
    const home = join(root, 'home');
    const env = { HOME: root, SWARM_HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', SWARM_LOG_LEVEL: 'warn' };
    const init = await swarm(['init', '--trust-domain', 'e2e.test'], env);
    if (init.code !== 0) throw new Error(`swarm init exited ${init.code}: ${init.stderr}`);
    const fleet = new Fleet(root, home, env, await masterIdentity(home));
    try {
      for (const name of options.hosts) await fleet.enroll(name, options.updaterFlags?.(name) ?? []);
      await Promise.all(options.hosts.map((name) => fleet.start(name)));
      return fleet;
    } catch (err) {
      await fleet.close().catch(() => {});
      throw err;
    }
  }

  /** `swarm …args` in-process, with this fleet's home. */
  swarm(args: readonly string[]): Promise<CliResult> {
    return swarm(args, this.env);
  }

  /** `swarm …args --json`, parsed; fails with the command's stderr when stdout is not JSON. */
  async swarmJson<T>(args: readonly string[]): Promise<CliResult & { json: T }> {
    const res = await this.swarm([...args, '--json']);
    try {
      return { ...res, json: JSON.parse(res.stdout) as T };
    } catch {
      throw new Error(
        `swarm ${args.join(' ')} --json printed no JSON (exit ${res.code}): ${res.stdout}\n${res.stderr}`,
      );
    }
  }

  host(name: string): FleetHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name} in this fleet`);
    return host;
  }

  /** `swarm enroll --updater` on free ports; the host is not started. */
  async enroll(name: string, flags: readonly string[] = []): Promise<FleetHost> {
    const [port, agentPort] = [await freePort(), await freePort()];
    const dir = join(this.root, name);
    const host: FleetHost = {
      name,
      bundle: join(dir, 'bundle'),
      installDir: join(dir, 'app'),
      selfDir: join(dir, 'self'),
      port,
      agentPort,
      flags,
      supervisor: null,
      log: join(dir, 'updater.log'),
    };
    await this.enrollAt(host, host.bundle);
    this.hosts.set(name, host);
    return host;
  }

  /**
   * Re-issue a host's certificates the documented way (`swarm decommission` then `swarm
   * enroll` — wiki/pki.md), on the same ports, writing the new bundle to `out`. The running
   * updater keeps serving the old certificate: the registry's pin no longer matches it.
   */
  async reenroll(name: string, out: string): Promise<void> {
    const host = this.host(name);
    const res = await this.swarm(['decommission', '--host', name]);
    if (res.code !== 0) throw new Error(`swarm decommission ${name} exited ${res.code}: ${res.stderr}`);
    await this.enrollAt(host, out);
  }

  private async enrollAt(host: FleetHost, out: string): Promise<void> {
    const res = await this.swarm([
      'enroll', '--host', host.name, '--address', '127.0.0.1', '--updater', '--out', out,
      '--updater-port', String(host.port), '--agent-port', String(host.agentPort),
    ]); // prettier-ignore
    if (res.code !== 0) throw new Error(`swarm enroll ${host.name} exited ${res.code}: ${res.stderr}`);
  }

  /** Start `swarm updater` for a host (its own process group) and wait until /health answers. */
  async start(name: string): Promise<FleetHost> {
    const host = this.host(name);
    const log = openSync(host.log, 'a');
    const child = spawn(
      process.execPath,
      [swarmBin, 'updater', '--bundle', host.bundle, '--install-dir', host.installDir, '--self-dir', host.selfDir,
        '--listen', `127.0.0.1:${host.port}`, ...FAST_FLAGS, ...host.flags], // prettier-ignore
      { cwd: this.root, env: this.childEnv({ SWARM_LOG_LEVEL: 'info' }), stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    this.track(child);
    host.supervisor = child;
    await waitFor(
      `${name}'s updater to answer /health`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`swarm updater exited (${child.exitCode ?? child.signalCode}):\n${await this.logTail(name)}`);
        }
        return (await mtlsGet(this.identity, host.port, '/health')).status === 200;
      },
      { timeoutMs: 60_000 },
    );
    return host;
  }

  /** Stop a host's supervisor with `signal` and wait until it has exited. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const host = this.host(name);
    const child = host.supervisor;
    host.supervisor = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
  }

  /** The full `GET /health` body of a host's updater (fails unless it answers 200). */
  async health(name: string): Promise<UpdaterHealth> {
    const res = await mtlsGet(this.identity, this.host(name).port, '/health');
    if (res.status !== 200) throw new Error(`${name} /health answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as UpdaterHealth;
  }

  /** The agent's PID from `<install-dir>/agent.pid` (null when there is none). */
  async agentPid(name: string): Promise<number | null> {
    try {
      const text = await readFile(join(this.host(name).installDir, 'agent.pid'), 'utf8');
      if (!/^[1-9][0-9]*\n$/.test(text)) return null;
      const pid = Number(text.trim());
      this.seen.add(pid);
      return pid;
    } catch {
      return null;
    }
  }

  /** The updater process: the one child of the host's supervisor. */
  async updaterPid(name: string): Promise<number> {
    const supervisor = this.host(name).supervisor;
    if (!supervisor?.pid) throw new Error(`${name} has no supervisor running`);
    const children = await childrenOf(supervisor.pid);
    if (children.length !== 1)
      throw new Error(`${name}'s supervisor has ${children.length} children: ${children.join(', ')}`);
    this.seen.add(children[0]!);
    return children[0]!;
  }

  /** Remember a PID so that {@link close} checks it is dead. */
  remember(pid: number): void {
    this.seen.add(pid);
  }

  /** The host's journal (`<install-dir>/state.json`), raw: to prove nothing touched it. */
  journal(name: string): Promise<string> {
    return readFile(join(this.host(name).installDir, 'state.json'), 'utf8');
  }

  /** Run `argv` (`node …` or the swarm bin) as a tracked child process of the fleet. */
  spawn(
    command: string,
    args: readonly string[],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ): CliChild {
    const child = spawn(command, args, {
      cwd: options.cwd ?? this.root,
      env: options.env ?? this.childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.track(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
      (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, done };
  }

  /** `swarm …args` as a child process (to SIGKILL it, or to measure its memory). */
  spawnCli(args: readonly string[]): CliChild {
    return this.spawn(process.execPath, [swarmBin, ...args]);
  }

  /** The environment of the fleet's child processes: nothing of the test runner's (no tsx loader). */
  childEnv(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.env, ...extra };
  }

  async logTail(name: string, lines = 30): Promise<string> {
    const text = await readFile(this.host(name).log, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    if (child.pid) this.seen.add(child.pid);
  }

  /**
   * Kill every process the fleet started and check that none survives: the supervisors'
   * process groups (supervisor + updater), the agents' groups (they run in their own, to
   * outlive updater restarts), then anything still running from under the root. Throws,
   * after removing the root, if a process is still alive.
   */
  async close(): Promise<void> {
    // The sweep below must see what runs, or "nothing survived" proves nothing.
    const visible = await processesUnder(this.root);
    const running = [...this.children].filter((c) => c.pid && c.exitCode === null && c.signalCode === null);
    const unseen = running.filter((c) => !visible.includes(c.pid!)).map((c) => c.pid);
    for (const child of this.children) if (child.pid) killGroup(child.pid);
    for (const name of this.hosts.keys()) {
      const pid = await this.agentPid(name);
      if (pid) killGroup(pid);
    }
    let survivors: number[] = [];
    try {
      await waitFor(
        'every fleet process to die',
        async () => {
          const under = await processesUnder(this.root);
          for (const pid of under) {
            this.seen.add(pid);
            killGroup(pid);
            killPid(pid);
          }
          survivors = [];
          for (const pid of this.seen) if (await isAlive(pid)) survivors.push(pid);
          return under.length === 0 && survivors.length === 0;
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      if (!process.env.SWARM_E2E_KEEP) await rm(this.root, { recursive: true, force: true });
    }
    if (survivors.length > 0) throw new Error(`processes survived the fleet: ${survivors.join(', ')}`);
    if (unseen.length > 0) throw new Error(`the process sweep did not see running children ${unseen.join(', ')}`);
  }
}

/** Ports this process has handed out: enrollment does not bind them, so the kernel may offer one again. */
const handedOut = new Set<number>();

/**
 * A port free right now on loopback (the updater's port must be known at enrollment), never
 * one this process handed out before: two ports asked for in a row once came back equal.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const bound = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(bound));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
