// Issue 4 acceptance: the master's memory while pushing a ~300 MB release to three hosts
// stays far below the release size (wiki/reference/guarantees.md#bounded-memory on the master's side: the tarball is
// streamed from disk, never held in memory). The real CLI runs as a child process so its
// peak RSS is its own: /usr/bin/time -v when present, else VmHWM polled from /proc.
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Fleet, swarmBin } from './helpers/fleet.js';
import { agentRelease } from './helpers/release-trees.js';
import { outcomes, releaseIdOf, type RolloutJson } from './helpers/rollout-json.js';

const HOSTS = ['b1', 'b2', 'b3'];
const MIB = 1024 * 1024;
const RELEASE_BYTES = 300 * MIB;
const PEAK_LIMIT_BYTES = 200 * MIB;

describe('memory of a rollout of a 300 MB release (issue 4)', () => {
  let fleet: Fleet;
  let tree: string;

  before(async () => {
    fleet = await Fleet.create({
      name: 'big',
      hosts: HOSTS,
      updaterFlags: () => ['--max-upload-bytes', String(512 * MIB)],
    });
    tree = await agentRelease(join(fleet.root, 'big'), '5.0.0');
    // Incompressible: random bytes, so the gzipped tarball is as large as the data.
    const file = await open(join(tree, 'blob.bin'), 'w');
    const chunk = Buffer.alloc(4 * MIB);
    for (let written = 0; written < RELEASE_BYTES; written += chunk.length) await file.write(randomFillSync(chunk));
    await file.close();
  });
  after(async () => {
    await fleet?.close();
  });

  it('swarm update --all of ~300 MB to three hosts: all updated, the CLI peaks far below the release size', async (t) => {
    const args = [swarmBin, '--home', fleet.home, 'update', '--all', '--tree', tree, '--json'];
    const timed = existsSync('/usr/bin/time');
    const cli = timed
      ? fleet.spawn('/usr/bin/time', ['-v', process.execPath, ...args])
      : fleet.spawn(process.execPath, args);
    let polled = 0;
    const poller = timed
      ? null
      : setInterval(() => {
          void vmHwm(cli.child.pid!).then((kib) => (polled = Math.max(polled, kib)));
        }, 50);
    const end = await cli.done;
    if (poller) clearInterval(poller);

    assert.equal(end.code, 0, end.stderr);
    const result = JSON.parse(end.stdout) as RolloutJson;
    assert.deepEqual(outcomes(result), Object.fromEntries(HOSTS.map((h) => [h, 'updated'])));
    const id = releaseIdOf(result.release!);
    for (const host of HOSTS) {
      const health = await fleet.health(host);
      assert.equal(health.active?.id, id);
      const blob = await readFile(join(fleet.host(host).installDir, 'current', 'blob.bin')).then((b) => b.length);
      assert.equal(blob, RELEASE_BYTES, `${host} has the whole release`);
    }

    const peakKib = timed ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(end.stderr)?.[1]) : polled;
    assert.ok(peakKib > 0, `no peak RSS measured: ${end.stderr.slice(-500)}`);
    const peak = peakKib * 1024;
    const figure = `master CLI peak RSS ${(peak / MIB).toFixed(1)} MiB for a ${(RELEASE_BYTES / MIB).toFixed(0)} MiB release to ${HOSTS.length} hosts (${timed ? '/usr/bin/time -v' : 'VmHWM'})`;
    t.diagnostic(figure);
    process.stderr.write(`${figure}\n`);
    assert.ok(peak < PEAK_LIMIT_BYTES, figure);
  });
});

/** Peak RSS so far of a live process, in KiB (0 once it is gone). */
async function vmHwm(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
