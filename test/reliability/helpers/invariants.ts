import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { KnownRelease } from './fixture.js';
import { processesUnder } from './processes.js';
import { agentHealth, readJournal, waitFor, type UpdaterClient } from './package-helpers.js';

/** What the host must look like (after a restart, a refused input, a fault…). */
export interface HostExpectation {
  /** The release that must be active and running; null: nothing committed, no `current`, no agent. */
  readonly active: KnownRelease | null;
  /** The committed previous release, when the case knows it (undefined: not checked). */
  readonly prev?: KnownRelease | null;
  /** The staged release, complete on disk (undefined: not checked; null: nothing staged). */
  readonly staged?: KnownRelease | null;
  /** What the last history entry must say (undefined: not checked). */
  readonly last?: { readonly outcome: string; readonly recovery?: string; readonly phase?: string };
  /**
   * Tolerate what a prune that failed half-way leaves for the next prune or the next start to
   * reconcile: `releases/.trash-*` (a deletion whose fsync or `rm` failed) and journal records
   * of deleted old releases (the journal write failed). Everything else must match.
   */
  readonly pendingPrune?: boolean;
}

/** A host to check: its install directory, agent port and a client of its updater. */
export interface HostUnderTest {
  readonly installDir: string;
  readonly agentPort: number;
  readonly client: UpdaterClient;
}

/**
 * Check the promises of wiki/reference/guarantees.md on a host and return every violation found (empty: all
 * hold), so a table can show them and a test assert on them:
 * - the journal has no operation in flight and names the expected active (and prev);
 * - `current` points at `releases/<active>` and that directory is the complete release (every
 *   file of its tree, byte for byte), or there is no `current` when nothing was committed;
 * - `releases/` holds exactly the journal's committed releases: no staging, no trash, no
 *   uncommitted release; no temporary link or journal file is left in the install directory;
 * - the updater answers /health, idle; the agent it reports runs from the active release's
 *   own directory (/proc/<pid>/cwd) and reports that release's version; no other process runs
 *   from the install directory (no agent of an uncommitted release, no orphaned install);
 * - the last history entry says what happened.
 */
export async function checkHost(host: HostUnderTest, expected: HostExpectation): Promise<string[]> {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const { installDir } = host;
  const journal = await readJournal(installDir);
  const want = expected.active;
  check(journal.inFlight === null, `the journal still has an operation in flight (${journal.inFlight?.phase})`);
  check(
    (journal.active?.id ?? null) === (want?.id ?? null),
    `journal active is ${journal.active?.id}, expected ${want?.id ?? null}`,
  );
  if (expected.prev !== undefined) {
    check(
      (journal.prev?.id ?? null) === (expected.prev?.id ?? null),
      `journal prev is ${journal.prev?.id}, expected ${expected.prev?.id ?? null}`,
    );
  }

  if (expected.staged !== undefined) {
    const staged = expected.staged;
    check(
      (journal.staged?.id ?? null) === (staged?.id ?? null),
      `journal staged is ${journal.staged?.id ?? null}, expected ${staged?.id ?? null}`,
    );
    if (staged) {
      const missing = await incompleteFiles(join(installDir, 'releases', staged.id), staged.tree);
      check(missing.length === 0, `the staged release is incomplete: ${missing.slice(0, 3).join(', ')}`);
    }
  }

  let link: string | null = null;
  try {
    link = await readlink(join(installDir, 'current'));
  } catch {
    link = null;
  }
  if (!want) {
    check(link === null, `current exists (${link}) though nothing was committed`);
  } else {
    check(link === `releases/${want.id}`, `current -> ${link}, expected releases/${want.id}`);
    const missing = await incompleteFiles(join(installDir, 'releases', want.id), want.tree);
    check(missing.length === 0, `the active release is incomplete: ${missing.slice(0, 3).join(', ')}`);
  }

  const onDisk = (await readdir(join(installDir, 'releases')))
    .filter((n) => !(expected.pendingPrune && n.startsWith('.trash-')))
    .sort();
  const pinned = [journal.active?.id, journal.prev?.id, journal.staged?.id];
  const committed = (journal.releases as { id: string }[])
    .map((r) => r.id)
    .filter((id) => !(expected.pendingPrune && !pinned.includes(id) && !onDisk.includes(id)))
    .sort();
  check(
    JSON.stringify(onDisk) === JSON.stringify(committed),
    `releases/ holds [${onDisk}], the journal [${committed}]`,
  );
  const stray = (await readdir(installDir)).filter((n) => n.startsWith('current.tmp-') || /\.tmp$/.test(n));
  check(stray.length === 0, `temporary files left: ${stray.join(', ')}`);

  const health = await host.client.health();
  check(health.status === 200, `GET /health answered ${health.status}`);
  check(health.body?.busy === false, 'the updater is still busy');
  check((health.body?.active?.id ?? null) === (want?.id ?? null), `/health active is ${health.body?.active?.id}`);
  if (expected.staged !== undefined) {
    check(
      (health.body?.staged?.id ?? null) === (expected.staged?.id ?? null),
      `/health staged is ${health.body?.staged?.id ?? null}`,
    );
  }
  if (want) {
    const dir = await realpath(join(installDir, 'releases', want.id));
    // The updater starts the agent during its recovery; give it the time to listen.
    const agent = await waitFor(
      `the agent of ${want.id}`,
      async () => {
        const b = (await host.client.health()).body;
        if (!b?.agent?.running || !b.agent.pid) return null;
        const reported = await agentHealth(host.agentPort);
        return reported?.version === want.version && reported.pid === b.agent.pid ? b.agent : null;
      },
      15_000,
    ).catch((err: Error) => {
      problems.push(err.message);
      return null;
    });
    if (agent) {
      const cwd = await readlink(`/proc/${agent.pid}/cwd`).catch(() => '(gone)');
      check(cwd === dir, `the agent runs from ${cwd}, not ${dir}`);
      const others = (await processesUnder(installDir)).filter((p) => p !== agent.pid);
      check(others.length === 0, `other processes run from the install directory: ${others.join(', ')}`);
    }
  } else {
    check(health.body?.agent?.running === false, 'an agent runs though nothing is committed');
    const left = await processesUnder(installDir);
    check(left.length === 0, `processes run from the install directory: ${left.join(', ')}`);
  }

  const last = journal.history.at(-1);
  if (expected.last) {
    for (const [key, value] of Object.entries(expected.last)) {
      check(last?.[key] === value, `last history entry has ${key}=${last?.[key]}, expected ${value}`);
    }
  }
  return problems;
}

/** Files of `tree` that are missing or different in `dir` (an empty list: `dir` is complete). */
export async function incompleteFiles(dir: string, tree: string): Promise<string[]> {
  const bad: string[] = [];
  for (const path of await walk(tree)) {
    const rel = relative(tree, path);
    try {
      const [a, b] = await Promise.all([readFile(path), readFile(join(dir, rel))]);
      if (digest(a) !== digest(b)) bad.push(`${rel} differs`);
    } catch {
      bad.push(`${rel} missing`);
    }
  }
  return bad;
}

function digest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await lstat(path)).isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}
