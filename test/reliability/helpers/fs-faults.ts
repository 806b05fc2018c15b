import { appendFile, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogue, isErrorCode } from '@swarm/errors';
import type { KnownRelease } from './fixture.js';
import { startProcess } from './fixture.js';
import { checkHost } from './invariants.js';
import type { Prng } from './prng.js';
import { readJournal, type PkiFixture, type UpdaterClient, type UpdaterProcess } from './package-helpers.js';

/** The preload that wraps node:fs in the updater process (see its header). */
export const FS_FAULTS_PRELOAD = fileURLToPath(new URL('../fs-faults/preload.mjs', import.meta.url));

/** An errno a disk can answer with. */
export type Errno = 'ENOSPC' | 'EIO' | 'EACCES';
export const ERRNOS: readonly Errno[] = ['ENOSPC', 'EIO', 'EACCES'];

/**
 * One fault: the `nth` call of `op` on a path matching `path` fails with `errno` (and
 * `times - 1` more after it) — or, with `hold`, waits until that file exists, then goes through.
 */
export interface FaultSpec {
  readonly op: 'open' | 'write' | 'fsync' | 'mkdir' | 'rename' | 'symlink' | 'unlink' | 'rm';
  /** A RegExp source matched against the call's path arguments. */
  readonly path: string;
  readonly nth: number;
  readonly times?: number;
  readonly errno?: Errno;
  readonly hold?: string;
}

/**
 * Where the updater writes during an update, as (op, path) sites, with how many matching
 * calls one update makes at most (the range a seeded `nth` is drawn from). Paths are
 * anchored on the install-directory layout of wiki/remote-updates.md.
 */
export interface FaultSite {
  readonly label: string;
  readonly op: FaultSpec['op'];
  readonly path: string;
  readonly maxNth: number;
}

/** The temporary file of a journal write (state.json is replaced through it). */
export const JOURNAL_TMP = '/\\.state\\.json\\.[0-9a-f]+\\.tmp$';
const AGENT_PID_TMP = '/\\.agent\\.pid\\.[0-9a-f]+\\.tmp$';
const AGENT_RECORD_TMP = '/\\.agent\\.json\\.[0-9a-f]+\\.tmp$';

export const FAULT_SITES: readonly FaultSite[] = [
  { label: 'create the staging directory', op: 'mkdir', path: '/releases/\\.staging-[^/]+$', maxNth: 1 },
  { label: 'create the upload file', op: 'open', path: '/\\.staging-[^/]+/release\\.tgz$', maxNth: 1 },
  { label: 'write the upload', op: 'write', path: '/\\.staging-[^/]+/release\\.tgz$', maxNth: 3 },
  { label: 'create the extraction directory', op: 'mkdir', path: '/\\.staging-[^/]+/tree$', maxNth: 1 },
  { label: 'move the extracted tree into releases/', op: 'rename', path: '/\\.staging-[^/]+/tree$', maxNth: 1 },
  { label: 'delete the staging directory', op: 'rm', path: '/releases/\\.staging-[^/]+$', maxNth: 2 },
  { label: 'move a release to the trash', op: 'rename', path: '/releases/\\.trash-', maxNth: 2 },
  { label: 'delete a trashed release', op: 'rm', path: '/releases/\\.trash-', maxNth: 2 },
  { label: 'fsync releases/', op: 'fsync', path: '/releases$', maxNth: 3 },
  { label: 'create the new current link', op: 'symlink', path: '/current\\.tmp-', maxNth: 2 },
  { label: 'rename the link over current', op: 'rename', path: '/current\\.tmp-', maxNth: 2 },
  { label: 'create a journal temp file', op: 'open', path: JOURNAL_TMP, maxNth: 12 },
  { label: 'write a journal temp file', op: 'write', path: JOURNAL_TMP, maxNth: 12 },
  { label: 'fsync a journal temp file', op: 'fsync', path: JOURNAL_TMP, maxNth: 12 },
  { label: 'rename a journal temp file over state.json', op: 'rename', path: JOURNAL_TMP, maxNth: 12 },
  { label: 'fsync the install directory', op: 'fsync', path: '/install-[^/]+$', maxNth: 16 },
  { label: 'open the agent log', op: 'open', path: '/logs/agent\\.log$', maxNth: 2 },
  { label: 'write the agent log header', op: 'write', path: '/logs/agent\\.log$', maxNth: 2 },
  { label: 'create agent.pid', op: 'open', path: AGENT_PID_TMP, maxNth: 2 },
  { label: 'rename agent.pid into place', op: 'rename', path: AGENT_PID_TMP, maxNth: 2 },
  { label: 'create agent.json', op: 'open', path: AGENT_RECORD_TMP, maxNth: 2 },
  { label: 'rename agent.json into place', op: 'rename', path: AGENT_RECORD_TMP, maxNth: 2 },
];

/** A seeded fault: a site, an nth call within its range, an errno, and how many calls in a row fail. */
export function seededFault(rng: Prng, maxTimes = 1): { site: FaultSite; spec: FaultSpec } {
  const site = rng.pick(FAULT_SITES);
  return {
    site,
    spec: {
      op: site.op,
      path: site.path,
      nth: rng.int(1, site.maxNth),
      times: rng.int(1, maxTimes),
      errno: rng.pick(ERRNOS),
    },
  };
}

/** What the preload logged when a fault fired. */
export interface FiredFault {
  readonly id: string;
  readonly op: string;
  readonly syscall: string;
  readonly path: string;
  readonly nth: number;
  readonly errno: string;
}

/**
 * An updater process with the fault preload, and the control file that arms it. One process
 * runs many cases: each case arms its faults, pushes, disarms.
 */
export class FaultyUpdater {
  private constructor(
    readonly process: UpdaterProcess,
    readonly client: UpdaterClient,
    /** The port the updater listens on. */
    readonly port: number,
    private readonly control: string,
  ) {}

  /** Start the updater process on `installDir` with the preload loaded and nothing armed. */
  static async start(fx: PkiFixture, installDir: string, agentPort: number, control: string): Promise<FaultyUpdater> {
    await writeControl(control, 'idle', []);
    await appendFile(`${control}.log`, '');
    const started = await startProcess(fx, installDir, agentPort, {
      SWARM_TEST_FS_FAULTS: control,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${FS_FAULTS_PRELOAD}`.trim(),
    });
    return new FaultyUpdater(started.process, started.client, started.port, control);
  }

  arm(id: string, faults: readonly FaultSpec[]): Promise<void> {
    return writeControl(this.control, id, faults);
  }

  disarm(): Promise<void> {
    return writeControl(this.control, 'idle', []);
  }

  /** The faults that fired for case `id`. */
  async fired(id: string): Promise<FiredFault[]> {
    const text = await readFile(`${this.control}.log`, 'utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FiredFault)
      .filter((f) => f.id === id);
  }

  /** Graceful stop (SIGTERM): resolves with the exit code. */
  async stop(): Promise<number | null> {
    this.process.child.kill('SIGTERM');
    return (await this.process.exited).code;
  }
}

let controlVersion = 0;

/** Replace the control file atomically (the preload re-reads it when it changes). */
async function writeControl(path: string, id: string, faults: readonly FaultSpec[]): Promise<void> {
  const tmp = `${path}.${++controlVersion}.tmp`;
  await writeFile(tmp, JSON.stringify({ id, faults }));
  await rename(tmp, path);
}

/** The outcome of one fault case: a row of the table and the violations found. */
export interface FaultOutcome {
  readonly row: Record<string, string | number | boolean>;
  readonly problems: string[];
  readonly fired: boolean;
  /** The release active after the case (the pushed one when the update went through anyway). */
  readonly active: KnownRelease;
}

/**
 * One case: arm `faults`, push `release` over `active`, disarm, then check: a refusal is a
 * catalogued SWARM_ERR_* code with its catalogue status (a 500 says `rolledBack.done`), the
 * host is exactly as before (or fully on the new release when the update went through —
 * a fault after the commit, e.g. while pruning, must not undo it), nothing staged, the
 * updater healthy and idle, and the history records the failure with the same code.
 */
export async function runFaultCase(
  u: FaultyUpdater,
  host: { installDir: string; agentPort: number },
  kase: { id: string; label: string; faults: readonly FaultSpec[] },
  release: KnownRelease,
  active: KnownRelease,
): Promise<FaultOutcome> {
  const before = await readJournal(host.installDir);
  const lastBefore: string | undefined = before.history.at(-1)?.id;
  const dirsBefore = await readdir(join(host.installDir, 'releases'));
  // A prune that failed half-way in an earlier case, not yet reconciled.
  const pendingBefore =
    dirsBefore.some((n) => n.startsWith('.trash-')) ||
    (before.releases as { id: string }[]).some((r) => !dirsBefore.includes(r.id));
  await u.arm(kase.id, kase.faults);
  const answer = await u.client.push(release).catch((err: Error) => ({ status: 0, body: null, text: err.message }));
  await u.disarm();
  const fired = await u.fired(kase.id);
  const problems: string[] = [];
  const code: string | undefined = answer.body?.code;
  const went = answer.status === 200;
  if (!went) {
    if (!code || !isErrorCode(code))
      problems.push(`not a catalogued error: ${answer.status} ${answer.text.slice(0, 200)}`);
    else if (catalogue[code].status !== answer.status)
      problems.push(`${code} came with status ${answer.status}, the catalogue says ${catalogue[code].status}`);
    if (answer.status === 500 && answer.body?.rolledBack?.done !== true)
      problems.push(`a 500 whose rolledBack.done is not true: ${JSON.stringify(answer.body?.rolledBack)}`);
  }
  const now = went ? release : active;
  const journal = await readJournal(host.installDir);
  const recorded = journal.history.at(-1)?.id !== lastBefore;
  const last = recorded ? journal.history.at(-1) : undefined;
  // The failure is in the history — unless the fault hit the journal itself before anything
  // was recorded (the write that opens the operation): then nothing can be, and nothing was done.
  const journalFault = fired.some((f) => /\.state\.json\.|\/install-[^/]+$/.test(f.path));
  if (!went && !recorded && !journalFault) problems.push(`the failure (${code}) is not in the history`);
  if (!went && recorded && last?.error?.code !== code)
    problems.push(`the history records ${last?.error?.code}, the answer ${code}`);
  // A prune that failed half-way (a deletion whose fsync or `rm` failed after the rename to
  // the trash, or the journal write recording it) leaves that for the next prune — which only
  // runs after a successful update — or the next start.
  const pendingPrune = (went && fired.length > 0) || (pendingBefore && !went);
  const outcome = went ? 'updated' : last?.outcome === 'rolled_back' ? 'rolled_back' : 'failed';
  problems.push(
    ...(await checkHost(
      { ...host, client: u.client },
      { active: now, ...(went || recorded ? { last: { outcome } } : {}), pendingPrune },
    )),
  );
  const spec = kase.faults[0]!;
  return {
    fired: fired.length > 0,
    active: now,
    problems,
    row: {
      case: kase.id,
      site: kase.label,
      fault: `${spec.op} #${spec.nth}${spec.times && spec.times > 1 ? `×${spec.times}` : ''} ${spec.errno ?? 'hold'}`,
      fired: fired.length > 0 ? `${fired[0]!.syscall} ${fired[0]!.path.split('/').slice(-2).join('/')}` : 'no',
      answer: went ? '200 updated' : `${answer.status} ${code ?? '?'}`,
      'active after': now.version,
      'invariants ok': problems.length === 0,
    },
  };
}

/** Where a test keeps its control file (its log goes beside it). */
export function controlFile(root: string): string {
  return join(root, 'fs-faults.json');
}
