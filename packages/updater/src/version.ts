import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The updater's own version (SPEC.md §5): the `version` of the release.json it runs from when
 * it runs from a self directory's `current` release, else this package's version.
 */
export async function updaterVersion(selfDir: string | null, entry = process.argv[1]): Promise<string> {
  if (selfDir && entry) {
    try {
      const current = await realpath(join(selfDir, 'current'));
      const running = await realpath(entry);
      if (running.startsWith(`${current}/`)) {
        const manifest = JSON.parse(await readFile(join(current, 'release.json'), 'utf8')) as { version?: unknown };
        if (typeof manifest.version === 'string') return manifest.version;
      }
    } catch {
      // No self release here: fall back to the package version.
    }
  }
  return packageVersion();
}

async function packageVersion(): Promise<string> {
  try {
    // src/version.ts and dist/version.js both sit one level below the package root.
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Bundled without its package.json (a self release carries its own release.json).
  }
  return '0.0.0';
}
