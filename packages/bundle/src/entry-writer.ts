/**
 * What becomes of the archive entries the rules accept. The Unpacker (safe-unpack.ts) is the
 * one place that decides what is refused; it hands a writer only entries it has accepted, in
 * archive order, with normalized paths (`a/b`, relative to the release root) and the modes
 * they get. Extraction writes them (disk-writer.ts); an inspection writes nothing and keeps
 * only `release.json` (dry-writer.ts), so both refuse exactly the same archives.
 *
 * A writer may fail (a full disk: SWARM_ERR_ARCHIVE_WRITE_FAILED) but applies no rule of its
 * own, except what only a file system can tell: a case-folding one merging two names the
 * rules kept apart (SWARM_ERR_ARCHIVE_UNSAFE). Every method throws synchronously.
 */
export interface EntryWriter {
  /**
   * A directory: one the archive names, or a parent it implies (mode 0755). `exists` is true
   * when this archive created it before, e.g. implied by an earlier entry: only its mode is set.
   */
  directory(path: string, mode: number, exists: boolean): void;
  /** A regular file of `size` bytes: its content follows through {@link write}, then {@link endFile}. */
  file(path: string, mode: number, size: number): void;
  /** The next chunk of the file opened last. */
  write(chunk: Buffer): void;
  /** The file opened last is complete. */
  endFile(): void;
  /** A symlink whose target the rules checked to stay inside the release. */
  symlink(path: string, target: string): void;
  /** Release whatever a run cut short holds open. Idempotent; never throws. */
  close(): void;
}
