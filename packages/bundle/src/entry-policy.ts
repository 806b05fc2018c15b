/**
 * The rules an archive entry must follow to be written, shared by extraction (which
 * refuses what breaks them) and packing (which never produces it), so that whatever
 * `swarm pack` builds, the updater accepts.
 */

/** The longest file name Linux file systems take (NAME_MAX), in bytes. */
const MAX_NAME_BYTES = 255;

/** A path split into its segments, or the reason it is refused. */
export type PathVerdict = { ok: true; path: string; segments: string[] } | { ok: false; reason: string };

/**
 * Normalize an entry path (`./a//b/` → `a/b`) or refuse it. Refused: NUL bytes,
 * backslashes (a Windows separator on one side, a file-name character on the other: the
 * classic way to smuggle `..\..\x` past a POSIX check), absolute paths, drive letters
 * (`C:x` is drive-relative on Windows) and any `..` segment, even one that would stay
 * inside after normalization — releases built by `swarm pack` never contain one.
 * The root itself normalizes to `''` with no segments.
 */
export function normalizeEntryPath(raw: string): PathVerdict {
  if (raw.includes('\0')) return { ok: false, reason: 'path contains a NUL byte' };
  if (raw.includes('\\')) return { ok: false, reason: 'path contains a backslash' };
  if (raw.startsWith('/')) return { ok: false, reason: 'absolute path' };
  if (/^[a-z]:/i.test(raw)) return { ok: false, reason: 'path starts with a drive letter' };
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: "path has a '..' segment" };
  // NAME_MAX: such a name cannot be created on Linux file systems; refused here, the master's
  // check of a tarball (which writes nothing) catches it before any host fails to write it.
  if (segments.some((s) => Buffer.byteLength(s) > MAX_NAME_BYTES)) {
    return { ok: false, reason: `a path segment is longer than ${MAX_NAME_BYTES} bytes` };
  }
  return { ok: true, path: segments.join('/'), segments };
}

/**
 * Why the symlink at `linkSegments` pointing to `target` could resolve outside the
 * release, or `undefined` when it cannot.
 *
 * A lexical check of the normalized target is not enough: `s/t -> ../l/..` normalizes to
 * the root, but if `l` is itself a symlink to `.`, the kernel resolves `l/..` to the
 * parent of the release. So `..` is allowed only as leading segments: it then walks up
 * through real directories (no entry is ever written below a symlink), and every name
 * after it descends, possibly through other symlinks that obey the same rule. By
 * induction no resolution leaves the release, whatever order the links are created in.
 */
export function symlinkTargetProblem(linkSegments: readonly string[], target: string): string | undefined {
  if (target === '') return 'empty symlink target';
  if (target.includes('\0')) return 'symlink target contains a NUL byte';
  if (target.includes('\\')) return 'symlink target contains a backslash';
  if (target.startsWith('/') || /^[a-z]:/i.test(target)) return 'absolute symlink target';
  const segments = target.split('/').filter((s) => s !== '' && s !== '.');
  let ups = 0;
  while (segments[ups] === '..') ups++;
  if (segments.indexOf('..', ups) !== -1) return "symlink target has '..' after a name";
  if (ups > linkSegments.length - 1) return 'symlink target escapes the release';
  return undefined;
}

/** The setuid and setgid bits of a mode. */
const SET_ID_BITS = 0o6000;

/**
 * Why an entry's mode is refused, or `undefined` when it is not: an entry with the setuid or
 * setgid bit, whatever its type, refuses the whole archive (wiki/reference/guarantees.md#hostile-archives-are-refused) rather than being
 * installed with the bit dropped — a release asking for privilege is hostile or broken, and
 * silently changing what it asked for would hide that. `swarm pack` never records these bits
 * ({@link packedMode}). The sticky bit and group/other write bits are only normalised away
 * ({@link extractedMode}).
 */
export function setIdProblem(mode: number | undefined): string | undefined {
  const bits = (mode ?? 0) & SET_ID_BITS;
  if (bits === 0) return undefined;
  const which = bits === SET_ID_BITS ? 'setuid and setgid bits' : bits & 0o4000 ? 'setuid bit' : 'setgid bit';
  return `${which} set (mode ${((mode ?? 0) & 0o7777).toString(8).padStart(4, '0')})`;
}

/**
 * Mode of an extracted file or directory: sticky and group/other write bits dropped (mask
 * 0755; setuid and setgid never get here, see {@link setIdProblem}, and the mask drops them
 * too). The owner keeps read and write (and search on directories) so the updater can always
 * read, finish writing and delete what it extracted.
 */
export function extractedMode(kind: 'file' | 'directory', mode: number | undefined): number {
  if (kind === 'directory') return ((mode ?? 0o755) & 0o755) | 0o700;
  return ((mode ?? 0o644) & 0o755) | 0o600;
}

/**
 * Mode recorded by `swarm pack`: directories 0755, files 0755 if owner-executable else 0644 —
 * never setuid, setgid or sticky, whatever the tree holds, so the updater accepts it.
 */
export function packedMode(kind: 'file' | 'directory' | 'symlink', mode: number): number {
  if (kind === 'directory') return 0o755;
  if (kind === 'symlink') return 0o777;
  return mode & 0o100 ? 0o755 : 0o644;
}

/**
 * A path as a case-insensitive, normalization-insensitive file system would see it
 * (macOS APFS, Windows). Used to refuse writing below something that such a file system
 * would confuse with an extracted symlink (`A -> /etc`, then `a/passwd`).
 */
export function foldPath(path: string): string {
  return path.normalize('NFD').toLocaleLowerCase('en').toLocaleUpperCase('en');
}
