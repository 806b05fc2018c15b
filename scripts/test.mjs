#!/usr/bin/env node
// Runs the test suite: every `*.test.ts` under packages/*/test and test/ (excluding
// test/reliability/long, run by `npm run test:reliability`), with Node's test runner and tsx.
// Node 20 cannot glob for .ts files itself (wiki/reference/platform-facts.md), hence this list.
// Usage: node scripts/test.mjs [--long] [path-substring…]   e.g. `node scripts/test.mjs pki updater`
// (--long also runs test/reliability/long/).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const excluded = [/^test\/reliability\/long\//];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const dirs = [join(root, 'test'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'test'))];
const long = process.argv.includes('--long');
const filters = process.argv.slice(2).filter((a) => a !== '--long');
const files = dirs
  .filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } })
  .flatMap((d) => walk(d, []))
  .filter((f) => long || !excluded.some((re) => re.test(f)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
