import { readFile } from 'node:fs/promises';
import { swarmError } from '@swarm/errors';
import type { OperationKind, OperationOutcome, OperationReport, Release } from '@swarm/protocol';
import { writeFileDurable, type ProcessIdentity } from '@swarm/release-dir';

/** A release as it appears on the wire and in the journal (wiki/reference/updater-api.md#release-object). */
export type ReleaseRecord = Release;

/**
 * How an operation ended: `updated` (new release active), `unchanged` (the pushed release was
 * already active), `rolled_back` (a rollback succeeded, or a failed update was rolled back to
 * the previous release), `failed` (refused or failed with nothing changed, or a first release
 * failed), `interrupted` (the updater died during it; recovery finished or undid it).
 */
export type { OperationKind, OperationOutcome };

/** The operation in flight, written before each step so recovery knows what to undo. */
export interface InFlightOperation {
  readonly id: string;
  readonly kind: OperationKind;
  /** The step running (see plan.ts), or `revert:<step>` while a failure is being undone. */
  readonly phase: string;
  readonly startedAt: string;
  /** The release being brought in, once known (after extraction for an update). */
  readonly target: ReleaseRecord | null;
  /** True when `target` was already a committed release: undoing must not delete it. */
  readonly targetCommitted: boolean;
  /** A running `install` command, killed by recovery if the updater died during it. */
  readonly install: ProcessIdentity | null;
}

/** One finished operation: on the wire, the `lastUpdate` of /health, with this updater's kinds and outcomes. */
export interface HistoryEntry extends OperationReport {
  readonly kind: OperationKind;
  readonly outcome: OperationOutcome;
  /** For `interrupted`: what recovery did. */
  readonly recovery?: 'reverted' | 'completed';
}

/** The content of state.json. */
export interface JournalState {
  readonly schema: 1;
  /** The committed active release: `current` points to it whenever no operation is in flight. */
  readonly active: ReleaseRecord | null;
  readonly prev: ReleaseRecord | null;
  /** Every committed release still on disk (active and prev included). */
  readonly releases: readonly ReleaseRecord[];
  /** The release staged to be activated later (POST /stage): complete, installed, never pruned. */
  readonly staged: ReleaseRecord | null;
  readonly inFlight: InFlightOperation | null;
  /** Finished operations, newest last, bounded by `historyLimit`. */
  readonly history: readonly HistoryEntry[];
  /** Reserved for self-update (reported as `lastSelfUpdate` by /health). */
  readonly lastSelfUpdate: unknown;
}

/** The journal of an install directory that has never been used. */
export const EMPTY_JOURNAL: JournalState = {
  schema: 1,
  active: null,
  prev: null,
  releases: [],
  staged: null,
  inFlight: null,
  history: [],
  lastSelfUpdate: null,
};

/** Why the last write of the journal failed. */
export interface JournalWriteFailure {
  /** The system error, e.g. `ENOSPC: no space left on device, open '…/.state.json.….tmp'`. */
  readonly message: string;
  readonly errno: string | null;
  readonly at: string;
}

/**
 * state.json, kept in memory and written through: every change is one durable replacement
 * of the file (temp + fsync + rename + fsync of the directory), so after a crash the file is
 * either the state before a change or the state after it. Changes are serialized; readers
 * (GET /health) see the last state that reached the disk.
 */
export class Journal {
  private state: JournalState;
  private queue: Promise<unknown> = Promise.resolve();
  private failed: JournalWriteFailure | null = null;

  private constructor(
    private readonly path: string,
    initial: JournalState,
    private readonly historyLimit: number,
  ) {
    this.state = initial;
  }

  /** Load state.json; a missing file is an empty journal, an unreadable one an error. */
  static async open(path: string, historyLimit: number): Promise<Journal> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Journal(path, EMPTY_JOURNAL, historyLimit);
      throw swarmError('SWARM_ERR_UPDATER_JOURNAL_INVALID', `cannot read ${path}: ${(err as Error).message}`, { path });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw swarmError('SWARM_ERR_UPDATER_JOURNAL_INVALID', `${path} is not JSON: ${(err as Error).message}`, { path });
    }
    const o = raw as Partial<JournalState> | null;
    if (!o || typeof o !== 'object' || o.schema !== 1 || !Array.isArray(o.releases) || !Array.isArray(o.history)) {
      throw swarmError('SWARM_ERR_UPDATER_JOURNAL_INVALID', `${path} is not a swarm journal (schema 1)`, { path });
    }
    return new Journal(path, { ...EMPTY_JOURNAL, ...o } as JournalState, historyLimit);
  }

  /** The last durable state. */
  get current(): JournalState {
    return this.state;
  }

  /**
   * The error of the last write when it failed (null once a write succeeds): while it is set,
   * what is on disk — and so `current` — may be behind what the updater did, e.g. an
   * operation still recorded in flight after it was undone.
   */
  get writeFailure(): JournalWriteFailure | null {
    return this.failed;
  }

  /**
   * Apply `change` to the state and write it durably; resolves once it is on disk. A failed
   * write (a full or failing disk) rejects with SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED and
   * leaves the state as it was.
   */
  update(change: (state: JournalState) => JournalState): Promise<JournalState> {
    const next = this.queue.then(async () => {
      const changed = change(this.state);
      const bounded: JournalState = {
        ...changed,
        history: changed.history.slice(Math.max(0, changed.history.length - this.historyLimit)),
      };
      try {
        await writeFileDurable(this.path, `${JSON.stringify(bounded, null, 2)}\n`);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const errno = typeof e.code === 'string' ? e.code : null;
        this.failed = { message: e.message, errno, at: new Date().toISOString() };
        throw swarmError(
          'SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED',
          `cannot write the journal ${this.path}: ${e.message}`,
          { path: this.path, errno },
          { cause: err },
        );
      }
      this.failed = null;
      this.state = bounded;
      return bounded;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
