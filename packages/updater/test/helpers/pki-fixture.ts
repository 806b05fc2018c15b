import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCa,
  issueCertificate,
  writeWorkerBundle,
  type CertifiedKey,
} from '@swarm/pki';

/** The identities a test file needs, made once per file (RSA keygen is the slow part). */
export interface PkiFixture {
  readonly trustDomain: string;
  readonly ca: CertifiedKey;
  readonly master: CertifiedKey;
  readonly h1Updater: CertifiedKey;
  readonly h1Agent: CertifiedKey;
  /** Present when asked for: another host's updater, a master of a foreign CA, an expired master. */
  readonly h2Updater?: CertifiedKey;
  readonly foreignMaster?: CertifiedKey;
  readonly expiredMaster?: CertifiedKey;
  /** h1's worker bundle (ca.crt, host.json, agent and updater pairs). */
  readonly bundleDir: string;
  /** Temp root of the fixture; everything a test writes goes below it. */
  readonly root: string;
  cleanup(): Promise<void>;
}

export const TRUST_DOMAIN = 'swarm.test';

/** Create the CA, the identities and h1's bundle in a fresh temp directory. */
export async function createPkiFixture(options: { others?: boolean } = {}): Promise<PkiFixture> {
  const root = await mkdtemp(join(tmpdir(), 'swarm-updater-test-'));
  const trustDomain = TRUST_DOMAIN;
  const ca = await createCa({ trustDomain });
  const issue = (role: 'master' | 'updater' | 'agent', host?: string, extra: object = {}) =>
    issueCertificate({ ca, trustDomain, role, ...(host ? { host } : {}), addresses: ['127.0.0.1'], ...extra });
  const [master, h1Updater, h1Agent] = await Promise.all([
    issue('master'),
    issue('updater', 'h1'),
    issue('agent', 'h1'),
  ]);
  let others: Pick<PkiFixture, 'h2Updater' | 'foreignMaster' | 'expiredMaster'> = {};
  if (options.others) {
    const foreignCa = await createCa({ trustDomain });
    const [h2Updater, foreignMaster, expiredMaster] = await Promise.all([
      issue('updater', 'h2'),
      issueCertificate({ ca: foreignCa, trustDomain, role: 'master' }),
      issue('master', undefined, { notBefore: new Date(Date.now() - 10 * 86_400_000), validityDays: 2 }),
    ]);
    others = { h2Updater, foreignMaster, expiredMaster };
  }
  const bundleDir = join(root, 'bundle-h1');
  await writeWorkerBundle(bundleDir, {
    host: { name: 'h1', trustDomain, address: '127.0.0.1', agentPort: 8765, updaterPort: 8766 },
    caPem: ca.certPem,
    agent: h1Agent,
    updater: h1Updater,
  });
  return {
    trustDomain,
    ca,
    master,
    h1Updater,
    h1Agent,
    ...others,
    bundleDir,
    root,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
