/**
 * Authorization matrix (issue 7 §5): every route of the updater × every kind of caller, over
 * real mTLS handshakes, against the expected answer — and proof that no host name can yield
 * a certificate, or a parsed identity, with the master role.
 *
 * The master's calls are built so that they are authorized yet change nothing: uploads carry
 * a wrong digest (so the body is read and verified, then refused with 422) and /rollback has
 * nothing to roll back to (404). Anything else must be refused before a body byte is read.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { identityOf, issueCertificate, parseSpiffeId, type CertifiedKey } from '@swarm/pki';
import { fixtureRelease, type KnownRelease } from './helpers/fixture.js';
import { killProcessesUnder } from './helpers/processes.js';
import { Results } from './helpers/results.js';
// The pki package's openssl helper: crafts what issueCertificate refuses to issue.
import { opensslIssue } from '../../packages/pki/test/fixtures/openssl.js';
import {
  call,
  createPkiFixture,
  multipart,
  startTestUpdater,
  type PkiFixture,
  type TestUpdater,
} from './helpers/package-helpers.js';

let fx: PkiFixture;
let u: TestUpdater;
let v1: KnownRelease;
let otherDomainMaster: CertifiedKey;
/** Client certificates of our CA that issueCertificate refuses to make, crafted with openssl. */
let crafted: { noUri: CertifiedKey; twoUris: CertifiedKey; malformed: CertifiedKey };
const results = new Results('authorization', 'fast');
let hostNamesTried = 0;
let spiffeIdsTried = 0;

/** The callers: who they are, and how to get their identity (undefined: no certificate). */
const CALLERS: { name: string; key: () => CertifiedKey | undefined }[] = [
  { name: 'master', key: () => fx.master },
  { name: "this host's updater", key: () => fx.h1Updater },
  { name: "this host's agent", key: () => fx.h1Agent },
  { name: "another host's updater", key: () => fx.h2Updater },
  { name: 'master of a foreign CA', key: () => fx.foreignMaster },
  { name: 'expired master certificate', key: () => fx.expiredMaster },
  { name: 'master of another trust domain, same CA', key: () => otherDomainMaster },
  { name: 'certificate of our CA without a URI SAN', key: () => crafted.noUri },
  { name: 'certificate of our CA with two URI SANs (master and an updater)', key: () => crafted.twoUris },
  { name: "certificate of our CA with a malformed URI SAN ('h1/../master')", key: () => crafted.malformed },
  { name: 'no certificate', key: () => undefined },
];

const ROUTES = ['GET /health', 'GET /releases', 'POST /update', 'POST /update-self', 'POST /rollback'] as const;
type Route = (typeof ROUTES)[number];

/** What each caller must get on each route: a status and code, or a refused handshake. */
const TLS_REFUSED = 'TLS refused';
const FORBIDDEN = '403 SWARM_ERR_AUTH_FORBIDDEN';
const IDENTITY = '403 SWARM_ERR_PKI_IDENTITY_INVALID';
const allowedForMaster: Record<Route, string> = {
  'GET /health': '200',
  'GET /releases': '200',
  'POST /update': '422 SWARM_ERR_UPLOAD_DIGEST_MISMATCH',
  'POST /update-self': '422 SWARM_ERR_UPLOAD_DIGEST_MISMATCH',
  'POST /rollback': '404 SWARM_ERR_ROLLBACK_NOTHING',
};
const onlyHealth: Record<Route, string> = {
  'GET /health': '200',
  'GET /releases': FORBIDDEN,
  'POST /update': FORBIDDEN,
  'POST /update-self': FORBIDDEN,
  'POST /rollback': FORBIDDEN,
};
const every = (cell: string) => Object.fromEntries(ROUTES.map((r) => [r, cell])) as Record<Route, string>;
/**
 * Signed by our CA, so the handshake passes. wiki/reference/updater-api.md#transport-and-identity: `GET /health` accepts any certificate
 * of the CA; every other route requires a valid identity of this trust domain.
 */
const healthOnlyNoIdentity: Record<Route, string> = { ...every(IDENTITY), 'GET /health': '200' };
const EXPECTED: Record<string, Record<Route, string>> = {
  master: allowedForMaster,
  "this host's updater": onlyHealth,
  "this host's agent": onlyHealth,
  "another host's updater": onlyHealth,
  'master of a foreign CA': every(TLS_REFUSED),
  'expired master certificate': every(TLS_REFUSED),
  'master of another trust domain, same CA': healthOnlyNoIdentity,
  'certificate of our CA without a URI SAN': healthOnlyNoIdentity,
  'certificate of our CA with two URI SANs (master and an updater)': healthOnlyNoIdentity,
  "certificate of our CA with a malformed URI SAN ('h1/../master')": healthOnlyNoIdentity,
  'no certificate': every(TLS_REFUSED),
};

before(async () => {
  fx = await createPkiFixture({ others: true });
  otherDomainMaster = await issueCertificate({ ca: fx.ca, trustDomain: 'elsewhere.test', role: 'master' });
  crafted = await craftCertificates();
  v1 = await fixtureRelease(join(fx.root, 'releases'), { version: '1.0.0' });
  u = await startTestUpdater(fx);
});

after(async () => {
  await results.finish('Authorization matrix (route × caller)', {
    'cells checked': results.rows.length * ROUTES.length,
    'cells as expected': results.rows.reduce(
      (n, r) => n + ROUTES.filter((route) => !String(r[route]).includes('≠')).length,
      0,
    ),
    'host names tried for a master certificate': hostNamesTried,
    'SPIFFE IDs tried for the master role': spiffeIdsTried,
  });
  await u?.close().catch(() => undefined);
  await killProcessesUnder(fx.root);
  await fx.cleanup();
});

/** Client certificates (EKU clientAuth) of our CA with broken URI SANs, all for the agent's key. */
async function craftCertificates(): Promise<typeof crafted> {
  const dir = join(fx.root, 'crafted');
  await mkdir(dir);
  const files = { caCertFile: join(dir, 'ca.crt'), caKeyFile: join(dir, 'ca.key'), keyFile: join(dir, 'client.key') };
  await writeFile(files.caCertFile, fx.ca.certPem);
  await writeFile(files.caKeyFile, fx.ca.keyPem, { mode: 0o600 });
  await writeFile(files.keyFile, fx.h1Agent.keyPem, { mode: 0o600 });
  const issue = (san: string | null): CertifiedKey => ({
    certPem: opensslIssue({
      dir,
      ...files,
      subject: '/CN=master',
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=clientAuth',
        ...(san ? [`subjectAltName=${san}`] : []),
      ],
    }),
    keyPem: fx.h1Agent.keyPem,
  });
  const td = fx.trustDomain;
  return {
    noUri: issue(null),
    twoUris: issue(`URI:spiffe://${td}/master,URI:spiffe://${td}/host/h1/updater`),
    malformed: issue(`URI:spiffe://${td}/host/h1/../master`),
  };
}

/** Call `route` as `key`; the answer as a matrix cell. */
async function cell(route: Route, key: CertifiedKey | undefined): Promise<string> {
  const [method, path] = route.split(' ') as [string, string];
  const upload = method === 'POST' && path !== '/rollback';
  const body = upload
    ? await multipart([
        { name: 'sha256', value: 'ab'.repeat(32) },
        { name: 'tarball', filename: 'release.tgz', path: v1.file },
      ])
    : null;
  try {
    const answer = await call({
      port: u.port,
      method,
      path,
      caPem: fx.ca.certPem,
      ...(key ? { client: key } : {}),
      ...(body
        ? { headers: { 'content-type': body.contentType, 'content-length': body.length }, body: body.stream }
        : {}),
    });
    return `${answer.status}${answer.status === 200 ? '' : ` ${answer.body?.code}`}`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // TLS 1.3: a refused client certificate reaches the client as an alert or a reset (wiki/reference/platform-facts.md).
    if (/ECONNRESET|EPIPE|ERR_SSL|alert|socket hang up/i.test(`${e.code} ${e.message}`)) return TLS_REFUSED;
    throw err;
  }
}

describe('every route × every caller', () => {
  for (const caller of CALLERS) {
    it(`${caller.name}: ${Object.values(EXPECTED[caller.name]!).join(', ')}`, async () => {
      const got: Record<string, string> = {};
      for (const route of ROUTES) got[route] = await cell(route, caller.key());
      const expected = EXPECTED[caller.name]!;
      results.add({
        caller: caller.name,
        ...Object.fromEntries(
          ROUTES.map((r) => [r, got[r] === expected[r] ? got[r]! : `${got[r]} ≠ expected ${expected[r]}`]),
        ),
      });
      assert.deepEqual(got, expected);
      // Whatever was refused, nothing was staged or installed.
      assert.deepEqual(await readdir(join(u.installDir, 'releases')), []);
    });
  }
});

describe('no host name yields the master role', () => {
  // Names that look like, contain, encode or climb to `master`.
  const TRICKY = [
    'master',
    'Master',
    'MASTER',
    'master.',
    'master ',
    ' master',
    'master\u0000',
    'master/',
    '/master',
    '../master',
    'h1/../master',
    'h1/../../master',
    'h1/master',
    'master/updater',
    'master%2F',
    '%6Daster',
    'm\u0430ster', // Cyrillic а
    'mast\u0435r', // Cyrillic е
    'master-',
    '-master',
    '.',
    '..',
    '*',
    '',
    'masterx',
    'x-master',
    'master1',
  ];

  it('issueCertificate refuses reserved and malformed host names; any name it accepts keeps its own role', async () => {
    // Certify an existing public key: no RSA generation per name.
    const publicKeyPem = createPublicKey(fx.h1Agent.certPem).export({ type: 'spki', format: 'pem' }) as string;
    const accepted: string[] = [];
    for (const host of TRICKY) {
      hostNamesTried += 1;
      for (const role of ['updater', 'agent'] as const) {
        let cert: CertifiedKey;
        try {
          cert = await issueCertificate({ ca: fx.ca, trustDomain: fx.trustDomain, role, host, publicKeyPem });
        } catch (err) {
          assert.match(
            (err as { code?: string }).code ?? '',
            /^SWARM_ERR_(HOST_NAME_INVALID|HOST_NAME_RESERVED|USAGE_INVALID)$/,
            JSON.stringify(host),
          );
          continue;
        }
        const identity = identityOf(cert.certPem, fx.trustDomain);
        assert.equal(identity.role, role, `${JSON.stringify(host)} as ${role}`);
        assert.notEqual(identity.role, 'master');
        accepted.push(host);
      }
    }
    // Only the plainly valid names were accepted.
    assert.deepEqual([...new Set(accepted)].sort(), ['master1', 'masterx', 'x-master']);
    await assert.rejects(
      issueCertificate({ ca: fx.ca, trustDomain: fx.trustDomain, role: 'updater', host: 'master', publicKeyPem }),
      { code: 'SWARM_ERR_HOST_NAME_RESERVED' },
    );
  });

  it('parseSpiffeId never returns the master role for a host/… path, whatever the name', () => {
    const uris = [
      ...TRICKY.flatMap((x) => [
        `spiffe://${fx.trustDomain}/host/${x}/updater`,
        `spiffe://${fx.trustDomain}/host/${x}/agent`,
      ]),
      `spiffe://${fx.trustDomain}/host/h1/master`,
      `spiffe://${fx.trustDomain}/host/../master`,
      `spiffe://${fx.trustDomain}/host/master`,
      `spiffe://${fx.trustDomain}/host//master`,
      `spiffe://${fx.trustDomain}/host/h1/updater/../../master`,
      `spiffe://${fx.trustDomain}/host/h1/updater/master`,
    ];
    spiffeIdsTried += uris.length;
    for (const uri of uris) {
      let role: string | null = null;
      try {
        role = parseSpiffeId(uri).role;
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'SWARM_ERR_PKI_IDENTITY_INVALID', uri);
      }
      assert.notEqual(role, 'master', uri);
    }
  });

  it('only the exact master ID is the master: variants of it are refused', () => {
    assert.equal(parseSpiffeId(`spiffe://${fx.trustDomain}/master`).role, 'master');
    const variants = [
      `spiffe://${fx.trustDomain}/master/`,
      `spiffe://${fx.trustDomain}//master`,
      `spiffe://${fx.trustDomain}/./master`,
      `spiffe://${fx.trustDomain}/MASTER`,
      `spiffe://${fx.trustDomain}/master?role=master`,
      `spiffe://${fx.trustDomain}/master#x`,
      `spiffe://${fx.trustDomain}/m%61ster`,
      `SPIFFE://${fx.trustDomain}/master`,
      `spiffe://${fx.trustDomain.toUpperCase()}/master`,
      `spiffe://user@${fx.trustDomain}/master`,
      `spiffe://${fx.trustDomain}:443/master`,
    ];
    spiffeIdsTried += variants.length;
    for (const uri of variants) {
      assert.throws(() => parseSpiffeId(uri), { code: 'SWARM_ERR_PKI_IDENTITY_INVALID' }, uri);
    }
  });
});
