import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, killSeenAgents, releaseDirs, trackRecordedAgent, updaterClient } from './helpers/harness.js';
import { createPkiFixture, type PkiFixture } from './helpers/pki-fixture.js';
import { buildRelease } from './helpers/releases.js';
import { spawnUpdater, type UpdaterProcess } from './helpers/updater-process.js';

const MIB = 1024 * 1024;
const UPLOAD_MIB = 256;

let fx: PkiFixture;
let updater: UpdaterProcess | undefined;
let installDir: string;

before(async () => {
  fx = await createPkiFixture();
});

after(async () => {
  updater?.child.kill('SIGKILL');
  if (installDir) await trackRecordedAgent(installDir);
  killSeenAgents();
  await fx?.cleanup();
});

/** Peak resident set size of a process (VmHWM), in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb * 1024;
}

describe('bounded memory (wiki/reference/guarantees.md#bounded-memory)', () => {
  it(`receiving a ${UPLOAD_MIB} MiB upload raises the updater's peak RSS by far less than its size`, async (t) => {
    installDir = await mkdtemp(join(fx.root, 'install-'));
    updater = spawnUpdater(fx, { '--install-dir': installDir, '--agent-port': await freePort() });
    const { port, pid } = await updater.ready;
    const client = updaterClient(fx, port);

    // Warm up every code path with a small real update first, then take the baseline.
    const small = await buildRelease(join(fx.root, 'releases'), { version: '1.0.0' });
    assert.equal((await client.push(small)).status, 200);
    const baseline = await peakRss(pid);

    // A big "tarball" of random bytes, written in chunks (the test itself stays small too).
    const file = join(fx.root, 'big.tgz');
    const handle = await open(file, 'w');
    const hash = createHash('sha256');
    for (let i = 0; i < UPLOAD_MIB; i += 1) {
      const chunk = randomBytes(MIB);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.close();
    const size = UPLOAD_MIB * MIB;
    // The declared digest is wrong on purpose: the whole body is received and hashed, then refused.
    const res = await client.push({ file, sha256: 'ef'.repeat(32), size });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.code, 'SWARM_ERR_UPLOAD_DIGEST_MISMATCH');
    assert.equal(res.body.actual, hash.digest('hex'), 'every byte was received and hashed');

    const growth = (await peakRss(pid)) - baseline;
    t.diagnostic(
      `peak RSS ${Math.round(baseline / MIB)} MiB before, +${Math.round(growth / MIB)} MiB after a ${UPLOAD_MIB} MiB upload`,
    );
    // Node 20 measures ~20 MiB, Node 24 65-72 MiB (larger young generation): the bound is half
    // the 256 MiB a buffering receiver would add at least. The figure is printed; the benchmark tracks it.
    assert.ok(growth < 128 * MIB, `peak RSS grew by ${Math.round(growth / MIB)} MiB for a ${UPLOAD_MIB} MiB upload`);
    assert.deepEqual(await releaseDirs(installDir), [`1.0.0-${small.sha256.slice(0, 12)}`], 'the staging area is gone');
  });
});
