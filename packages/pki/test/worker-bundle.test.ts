import { createPublicKey } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUNDLE_FILES,
  createCa,
  issueCertificate,
  readWorkerBundle,
  writeWorkerBundle,
  type WorkerBundle,
} from '../src/index.js';

const TD = 'fleet.test';
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('worker bundles', () => {
  let dir: string;
  let bundle: WorkerBundle;
  /** A private key that belongs to neither leaf. */
  let foreignKeyPem: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-bundle-'));
    const ca = await createCa({ trustDomain: TD });
    const agent = await issueCertificate({
      ca,
      trustDomain: TD,
      role: 'agent',
      host: 'web-1',
      addresses: ['10.0.0.5'],
    });
    // One key pair behind both leaves keeps the fixture to two RSA keygens; the bundle
    // checks only that each certificate matches its own key file.
    const publicKeyPem = createPublicKey(agent.keyPem).export({ type: 'spki', format: 'pem' }).toString();
    const updater = await issueCertificate({
      ca,
      trustDomain: TD,
      role: 'updater',
      host: 'web-1',
      addresses: ['10.0.0.5'],
      publicKeyPem,
    });
    bundle = {
      host: { name: 'web-1', trustDomain: TD, address: '10.0.0.5', agentPort: 8765, updaterPort: 8766 },
      caPem: ca.certPem,
      agent,
      updater: { certPem: updater.certPem, keyPem: agent.keyPem },
    };
    foreignKeyPem = ca.keyPem;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every file, keys 0600 and the directory 0700, and reads it back', async () => {
    const out = join(dir, 'web-1');
    await writeWorkerBundle(out, bundle);
    assert.deepEqual((await readdir(out)).sort(), Object.values(BUNDLE_FILES).sort());
    assert.equal(await mode(out), 0o700);
    assert.equal(await mode(join(out, BUNDLE_FILES.agentKey)), 0o600);
    assert.equal(await mode(join(out, BUNDLE_FILES.updaterKey)), 0o600);
    assert.deepEqual(await readWorkerBundle(out, { requireUpdater: true }), bundle);
    assert.deepEqual(JSON.parse(await readFile(join(out, BUNDLE_FILES.host), 'utf8')), bundle.host);
  });

  it('creates missing parents 0700 and leaves an existing parent alone', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared, { mode: 0o755 });
    await writeWorkerBundle(join(shared, 'a', 'b', 'web-1'), bundle);
    assert.equal(await mode(shared), 0o755);
    assert.equal(await mode(join(shared, 'a')), 0o700);
    assert.equal(await mode(join(shared, 'a', 'b')), 0o700);
  });

  it('refuses a directory that holds files and leaves it as it was', async () => {
    const out = join(dir, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await assert.rejects(writeWorkerBundle(out, bundle), {
      code: 'SWARM_ERR_ENROLL_OUT_UNWRITABLE',
      message: /not empty/,
    });
    assert.deepEqual(await readdir(out), ['notes.txt']);
  });

  it('leaves no partial bundle when writing fails', async () => {
    const parent = join(dir, 'a-file');
    await writeFile(parent, '');
    await assert.rejects(writeWorkerBundle(join(parent, 'web-1'), bundle), { code: 'SWARM_ERR_ENROLL_OUT_UNWRITABLE' });
    assert.deepEqual(
      (await readdir(dir)).filter((e) => e.includes('partial')),
      [],
    );
  });

  it('without an updater pair, writes none and reads as such', async () => {
    const out = join(dir, 'agent-only');
    await writeWorkerBundle(out, { ...bundle, updater: null });
    assert.equal((await readWorkerBundle(out)).updater, null);
    await assert.rejects(readWorkerBundle(out, { requireUpdater: true }), {
      code: 'SWARM_ERR_BUNDLE_INVALID',
      message: /--updater/,
    });
  });

  describe('refuses an inconsistent bundle with SWARM_ERR_BUNDLE_INVALID', () => {
    let n = 0;
    /** A fresh copy of the good bundle, damaged by `damage`. */
    const damaged = async (damage: (out: string) => Promise<void>) => {
      const out = join(dir, `damaged-${n++}`);
      await writeWorkerBundle(out, bundle);
      await damage(out);
      return out;
    };

    it('an updater certificate without its key', async () => {
      const out = await damaged((o) => rm(join(o, BUNDLE_FILES.updaterKey)));
      await assert.rejects(readWorkerBundle(out), { code: 'SWARM_ERR_BUNDLE_INVALID', message: /only one of/ });
    });

    it('a certificate of another role or host', async () => {
      const out = await damaged((o) => copyFile(join(o, BUNDLE_FILES.updaterCert), join(o, BUNDLE_FILES.agentCert)));
      await assert.rejects(readWorkerBundle(out), {
        code: 'SWARM_ERR_BUNDLE_INVALID',
        message: /not the agent of web-1/,
      });
      const renamed = await damaged(async (o) => {
        await writeFile(join(o, BUNDLE_FILES.host), JSON.stringify({ ...bundle.host, name: 'web-2' }));
      });
      await assert.rejects(readWorkerBundle(renamed), {
        code: 'SWARM_ERR_BUNDLE_INVALID',
        message: /not the agent of web-2/,
      });
    });

    it('a key that does not belong to its certificate', async () => {
      const out = await damaged((o) => writeFile(join(o, BUNDLE_FILES.agentKey), foreignKeyPem));
      await assert.rejects(readWorkerBundle(out), {
        code: 'SWARM_ERR_BUNDLE_INVALID',
        message: /agent.key is not the key of agent.crt/,
      });
    });

    it('a ca.crt that did not issue the certificates', async () => {
      const stranger = await createCa({ trustDomain: TD });
      const out = await damaged((o) => writeFile(join(o, BUNDLE_FILES.ca), stranger.certPem));
      await assert.rejects(readWorkerBundle(out), { code: 'SWARM_ERR_BUNDLE_INVALID', message: /was not issued by/ });
    });

    it('a malformed host.json, listing every problem', async () => {
      const out = await damaged((o) =>
        writeFile(
          join(o, BUNDLE_FILES.host),
          JSON.stringify({ name: 'Web_1', trustDomain: '', agentPort: 0, updaterPort: '8766' }),
        ),
      );
      await assert.rejects(readWorkerBundle(out), (err: Error & { details?: { problems?: string[] } }) => {
        assert.equal((err as { code?: string }).code, 'SWARM_ERR_BUNDLE_INVALID');
        assert.equal(err.details?.problems?.length, 5, err.message);
        return true;
      });
      const notJson = await damaged((o) => writeFile(join(o, BUNDLE_FILES.host), '{'));
      await assert.rejects(readWorkerBundle(notJson), { code: 'SWARM_ERR_BUNDLE_INVALID', message: /not JSON/ });
    });

    it('a missing file', async () => {
      const out = await damaged((o) => rm(join(o, BUNDLE_FILES.ca)));
      await assert.rejects(readWorkerBundle(out), { code: 'SWARM_ERR_BUNDLE_INVALID', message: /ca\.crt/ });
    });
  });
});
