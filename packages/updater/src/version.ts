import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * The updater's own version (wiki/reference/updater-api.md): the `version` of the release.json it runs from —
 * the updater release's `release.json` beside its entry file (`updater.mjs`), wherever that
 * release was extracted — else this package's version. `selfDir` is kept for callers that
 * know it; the file beside the entry is what decides.
 */
export async function updaterVersion(_selfDir: string | null = null, entry = process.argv[1]): Promise<string> {
  if (entry) {
    try {
      const dir = dirname(await realpath(entry));
      const manifest = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === UPDATER_RELEASE_NAME && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Not running from an updater release: fall back to the package version.
    }
  }
  return packageVersion();
}

/** The `name` in the release.json of every updater release (scripts/bundle-updater.mjs). */
export const UPDATER_RELEASE_NAME = 'swarm-updater';

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
