// The benchmark's identities: one master home (CA, master, registry) made by the product's own
// initHome, and per host a worker bundle whose certificates that CA issues.
//
// RSA-3072 keygen takes ~1 s here, so host certificates certify one pooled key pair
// (issueCertificate's `publicKeyPem`, the CSR hook) instead of a fresh pair each: 120 keygens
// for a 30-host fleet would cost a minute of setup and measure enrollment, not pushes. Every
// certificate is still distinct (serial, SANs, SPIFFE ID), and so is every pin.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { homePaths, initHome, openHome } from '@swarm/master';
import { fingerprint, generateRsaKeyPair, issueCertificate, writeWorkerBundle } from '@swarm/pki';

export const TRUST_DOMAIN = 'bench.swarm';

/** Create the home under `dir` and return what the rest of the benchmark needs. */
export async function createBenchPki(dir) {
  const home = join(dir, 'home');
  const [, hostKeys] = await Promise.all([initHome({ home, trustDomain: TRUST_DOMAIN }), generateRsaKeyPair()]);
  const opened = await openHome(home);
  const { ca, master } = opened;
  opened.close();
  const paths = homePaths(home);

  /**
   * Issue a host's updater and agent certificates and write its worker bundle to
   * `<dir>/bundles/<name>`. Returns the bundle directory and the registry row to record.
   */
  async function host(name, { agentPort, updaterPort }) {
    const issue = (role, keys) =>
      issueCertificate({
        ca,
        trustDomain: TRUST_DOMAIN,
        role,
        host: name,
        addresses: ['127.0.0.1'],
        publicKeyPem: keys.publicKeyPem,
      }).then((c) => ({ certPem: c.certPem, keyPem: keys.privateKeyPem }));
    const [updater, agent] = await Promise.all([issue('updater', hostKeys), issue('agent', hostKeys)]);
    const bundleDir = join(dir, 'bundles', name);
    await writeWorkerBundle(bundleDir, {
      host: { name, trustDomain: TRUST_DOMAIN, address: '127.0.0.1', agentPort, updaterPort },
      caPem: ca.certPem,
      agent,
      updater,
    });
    return {
      name,
      bundleDir,
      agentPort,
      updaterPort,
      record: {
        name,
        address: '127.0.0.1',
        updaterPort,
        agentPort,
        updaterFingerprint: fingerprint(updater.certPem),
        agentFingerprint: fingerprint(agent.certPem),
      },
    };
  }

  return {
    home,
    master,
    /** Files for curl: --cacert, --cert, --key. */
    files: { ca: paths.caCert, cert: paths.masterCert, key: paths.masterKey },
    /** curl --pinnedpubkey for every server certificate (they share the pooled key). */
    serverPin: `sha256//${spkiSha256(hostKeys.publicKeyPem)}`,
    host,
  };
}

function spkiSha256(publicKeyPem) {
  const der = Buffer.from(publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return createHash('sha256').update(der).digest('base64');
}
