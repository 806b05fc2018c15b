import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackEntry } from './deterministic-tar.js';
import { normalizeEntryPath, packedMode, symlinkTargetProblem } from './entry-policy.js';
import { MANIFEST_FILE, type ReleaseManifest } from './manifest.js';

/** A path of the tree that does not ship, and why. */
export interface SkippedPath {
  path: string;
  reason: string;
}

/** An entry to pack, with where its content comes from. */
export interface TreeEntry extends PackEntry {
  /** Absolute path on disk. */
  source: string;
}

/** What {@link scanReleaseTree} found. */
export interface TreeScan {
  /** In archive order: depth-first, names sorted by their UTF-8 bytes, parents first. */
  entries: TreeEntry[];
  /** Paths left out by the hygiene rules, `exclude`, or the symlink rule; reported to the operator. */
  skipped: SkippedPath[];
  /** Paths that make the tree unpackable (unreadable, unsafe names, allowlist misses). */
  problems: string[];
}

/**
 * Why a path never ships, or `undefined`. These rules hold for every path found by walking
 * the tree (the whole tree, or a directory named in `files`); a path named exactly in
 * `files` ships anyway — explicit beats default (a public `certs/ca.pem`, say).
 */
export function hygieneReason(path: string, manifest: Pick<ReleaseManifest, 'name'>): string | undefined {
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  if (name === '.git') return 'version control data (.git)';
  if (name === '.swarm') return 'swarm state (.swarm)';
  if (name === '.env' || name.startsWith('.env.')) return 'environment file (.env, .env.*)';
  if (name.endsWith('.key') || name.endsWith('.pem')) return 'key material (*.key, *.pem)';
  if (name === '.cache' && (path === 'node_modules/.cache' || path.endsWith('/node_modules/.cache'))) {
    return 'build cache (node_modules/.cache)';
  }
  // `swarm pack` run inside the tree writes `<name>-<version>.tgz` there by default: an
  // earlier release must not ship inside the next one.
  if (slash === -1 && name.startsWith(`${manifest.name}-`) && name.endsWith('.tgz')) return 'a packed release';
  return undefined;
}

/**
 * Walk `root` (a real path) and list what ships: with `manifest.files`, only those paths
 * (and their parent directories) plus release.json; otherwise the whole tree minus the
 * hygiene rules. `excluded` holds absolute real paths that never ship (the master home,
 * the output file). Symlinks ship only when their target cannot leave the release (the
 * rule extraction enforces); anything that is not a file, directory or symlink is skipped.
 */
export async function scanReleaseTree(
  root: string,
  manifest: ReleaseManifest,
  excluded: ReadonlySet<string>,
): Promise<TreeScan> {
  const allow = manifest.files;
  const entries: TreeEntry[] = [];
  const skipped: SkippedPath[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();

  const visit = async (relDir: string, absDir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(absDir);
    } catch (err) {
      problems.push(`${relDir || '.'}: cannot be read: ${(err as Error).message}`);
      return;
    }
    names.sort(byteOrder);
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const abs = join(absDir, name);
      const isManifest = rel === MANIFEST_FILE;
      const explicit = allow?.includes(rel) ?? false;
      const inside = allow === undefined || isManifest || allow.some((p) => rel === p || rel.startsWith(`${p}/`));
      const ancestor = allow !== undefined && allow.some((p) => p.startsWith(`${rel}/`));
      if (!inside && !ancestor) continue;
      seen.add(rel);
      if (excluded.has(abs)) {
        skipped.push({ path: rel, reason: 'excluded' });
        continue;
      }
      const hygiene = explicit || isManifest ? undefined : hygieneReason(rel, manifest);
      if (hygiene !== undefined) {
        skipped.push({ path: rel, reason: hygiene });
        continue;
      }
      const verdict = normalizeEntryPath(rel);
      if (!verdict.ok) {
        problems.push(`${JSON.stringify(rel)}: ${verdict.reason}; rename it or leave it out of files`);
        continue;
      }
      let stat;
      try {
        stat = await lstat(abs);
      } catch (err) {
        problems.push(`${rel}: cannot be read: ${(err as Error).message}`);
        continue;
      }
      if (stat.isDirectory()) {
        entries.push({ path: rel, kind: 'directory', mode: packedMode('directory', stat.mode), size: 0, source: abs });
        await visit(rel, abs);
      } else if (!inside) {
        // A file where `files` expects a directory: the listed path below it cannot exist.
        continue;
      } else if (stat.isFile()) {
        entries.push({ path: rel, kind: 'file', mode: packedMode('file', stat.mode), size: stat.size, source: abs });
      } else if (stat.isSymbolicLink()) {
        const target = await readlink(abs);
        const problem = symlinkTargetProblem(verdict.segments, target);
        if (problem !== undefined) skipped.push({ path: rel, reason: `${problem} (-> ${target})` });
        else
          entries.push({
            path: rel,
            kind: 'symlink',
            mode: packedMode('symlink', stat.mode),
            size: 0,
            target,
            source: abs,
          });
      } else {
        skipped.push({ path: rel, reason: 'not a regular file, directory or symlink' });
      }
    }
  };

  await visit('', root);
  for (const path of allow ?? []) {
    if (!seen.has(path)) problems.push(`files lists "${path}", which is not in the tree`);
  }
  return { entries, skipped, problems };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
