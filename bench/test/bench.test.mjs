// The benchmark's own checks (not part of `npm test`; run: node --test bench/test/):
// the workloads are what they claim (deterministic, the sizes of issue 8) and the statistics
// are right, since every published ratio rests on both.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { median, ratioSummary, summary } from '../lib/stats.mjs';
import { packVersions, WORKLOADS, writeTree } from '../lib/workload.mjs';

const work = mkdtempSync(join(tmpdir(), 'swarm-bench-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** sha256 over every file's relative path and content, in sorted order. */
function treeDigest(dir) {
  const hash = createHash('sha256');
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else hash.update(relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

describe('workloads', () => {
  test('small: the same seed writes the same bytes, ~5 000 files and ~30 MB', () => {
    const a = writeTree('small', join(work, 'small-a'));
    const b = writeTree('small', join(work, 'small-b'));
    assert.deepEqual(a, b);
    assert.equal(a.files, WORKLOADS.small.files);
    assert.ok(Math.abs(a.bytes - 30e6) < 1.5e6, `small is ${a.bytes} bytes`);
    assert.equal(treeDigest(join(work, 'small-a')), treeDigest(join(work, 'small-b')));
  });

  test('another seed writes other bytes', () => {
    writeTree('fleet', join(work, 'fleet-a'));
    writeTree('fleet', join(work, 'fleet-c'), 'another-seed');
    assert.notEqual(treeDigest(join(work, 'fleet-a')), treeDigest(join(work, 'fleet-c')));
  });

  test('versions are reproducible tarballs that differ only by release.json', async () => {
    writeTree('fleet', join(work, 'fleet-b'));
    const [a1, a2] = await packVersions('fleet', join(work, 'fleet-a'), ['1.0.0', '1.1.0'], join(work, 'tb-a'));
    const [b1] = await packVersions('fleet', join(work, 'fleet-b'), ['1.0.0'], join(work, 'tb-b'));
    assert.equal(a1.sha256, b1.sha256);
    assert.notEqual(a1.sha256, a2.sha256);
    assert.equal(a2.version, '1.1.0');
  });
});

describe('statistics', () => {
  test('median of odd and even counts, ignoring non-finite values', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([1, Number.NaN, 3]), 2);
    assert.equal(median([]), null);
  });

  test('ratios are per pair, then summarized', () => {
    const r = ratioSummary([2, 3, 10], [1, 1, 10]);
    assert.deepEqual(r.values, [2, 3, 1]);
    assert.equal(r.median, 2);
    assert.equal(r.min, 1);
    assert.equal(r.max, 3);
    assert.equal(summary([5]).count, 1);
  });
});
