import type { EntryWriter } from './entry-writer.js';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, type FoundManifest } from './manifest.js';

/**
 * The writer of an inspection: writes nothing, and keeps of the archive only what it holds
 * at `release.json` — its kind and, for a regular file within the manifest cap, its content —
 * for `parseFoundManifest` (manifest.ts) to judge as it judges an extracted tree.
 */
export class DryWriter implements EntryWriter {
  /** What the archive put at `release.json`, if anything. */
  found: FoundManifest | undefined;
  /** The chunks of release.json while it is being read; null for every other file. */
  private chunks: Buffer[] | null = null;

  directory(path: string): void {
    if (path === MANIFEST_FILE) this.found = { kind: 'directory', size: 0 };
  }

  file(path: string, _mode: number, size: number): void {
    if (path !== MANIFEST_FILE) return;
    this.found = { kind: 'file', size };
    // Over the cap it is refused by its size alone: never buffer it.
    this.chunks = size <= MAX_MANIFEST_BYTES ? [] : null;
  }

  write(chunk: Buffer): void {
    // Copied: the parser's chunks are views of its input buffers.
    this.chunks?.push(Buffer.from(chunk));
  }

  endFile(): void {
    if (this.chunks !== null && this.found !== undefined) {
      this.found.bytes = Buffer.concat(this.chunks);
      this.found.text = this.found.bytes.toString('utf8');
    }
    this.chunks = null;
  }

  symlink(path: string): void {
    if (path === MANIFEST_FILE) this.found = { kind: 'symlink', size: 0 };
  }

  close(): void {
    this.chunks = null;
  }
}
