// The error catalogue (packages/errors/src/catalogue.ts) and wiki/errors.md describe the
// same codes, with the same HTTP status and exit code, both ways; and no source file
// raises a code the catalogue does not declare.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catalogue } from '@swarm/errors';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Row {
  readonly status: number;
  readonly exit: number;
  readonly meaning: string;
  readonly remedy: string;
}

/** The rows of the code table of wiki/errors.md, by code. */
async function wikiRows(): Promise<Map<string, Row>> {
  const text = await readFile(join(root, 'wiki', 'errors.md'), 'utf8');
  const rows = new Map<string, Row>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`(SWARM_ERR_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|\s*(\d)\s*\|(.*)\|(.*)\|\s*$/.exec(line);
    if (!m) {
      assert.doesNotMatch(line, /^\|\s*`?SWARM_ERR_/, `malformed row in wiki/errors.md: ${line}`);
      continue;
    }
    assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice in wiki/errors.md`);
    rows.set(m[1]!, { status: Number(m[2]), exit: Number(m[3]), meaning: m[4]!.trim(), remedy: m[5]!.trim() });
  }
  return rows;
}

/** Every `.ts` file under packages/<name>/src. */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const pkg of await readdir(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    let entries: string[];
    try {
      entries = await readdir(src, { recursive: true });
    } catch {
      continue;
    }
    files.push(...entries.filter((e) => e.endsWith('.ts')).map((e) => join(src, e)));
  }
  return files;
}

describe('the errors catalogue', () => {
  it('uses SWARM_ERR_<AREA>_<WHAT> codes with an HTTP status, an exit code and a remedy', () => {
    for (const [code, spec] of Object.entries(catalogue)) {
      assert.match(code, /^SWARM_ERR_[A-Z0-9]+_[A-Z0-9_]+$/);
      assert.ok(spec.status >= 400 && spec.status <= 599, `${code}: HTTP ${spec.status}`);
      assert.ok(spec.exit === 1 || spec.exit === 2, code);
      assert.ok(spec.message.length > 0 && spec.remedy.length > 0, code);
    }
  });

  it('is documented in wiki/errors.md, every code with the same HTTP status and exit code', async () => {
    const rows = await wikiRows();
    const missing = Object.keys(catalogue).filter((code) => !rows.has(code));
    assert.deepEqual(missing, [], 'codes of the catalogue missing from wiki/errors.md');
    for (const [code, spec] of Object.entries(catalogue)) {
      const row = rows.get(code)!;
      assert.deepEqual({ status: row.status, exit: row.exit }, { status: spec.status, exit: spec.exit }, code);
      assert.ok(row.meaning && row.remedy, `${code}: meaning and remedy must not be empty`);
    }
  });

  it('documents no code that the catalogue does not declare', async () => {
    const extra = [...(await wikiRows()).keys()].filter((code) => !Object.hasOwn(catalogue, code));
    assert.deepEqual(extra, [], 'codes in wiki/errors.md that the catalogue lacks');
  });

  it('declares every SWARM_ERR_ code used in packages/*/src', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 0);
    const unknown: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [code] of text.matchAll(/SWARM_ERR_[A-Z0-9_]+/g)) {
        // A prefix followed by an interpolation (`SWARM_ERR_${area}`) is not a code.
        if (code.endsWith('_')) continue;
        if (!Object.hasOwn(catalogue, code)) unknown.push(`${file.slice(root.length)}: ${code}`);
      }
    }
    assert.deepEqual(unknown, [], 'codes used in the sources but missing from the catalogue');
  });
});
