// Test fixtures shared by the agent's test files: a real PKI from @swarm/pki written to
// real files, HTTPS requests with real client certificates, and child-process helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createCa, generateRsaKeyPair, issueCertificate, type CertifiedKey } from '@swarm/pki';

export const TRUST_DOMAIN = 'test.swarm';

/** Certificates for the agent of h1 and the clients that call it. */
export interface Pki {
  readonly ca: CertifiedKey;
  readonly agentH1: CertifiedKey;
  readonly clients: Record<string, CertifiedKey>;
}

/**
 * Create the CA, h1's agent certificate and the named client identities. Once per test file,
 * in a `before`. RSA-3072 keygen is the slow part, so the clients share one key pair (each
 * still gets its own certificate, which is all authorization reads) and the four key pairs
 * are generated in parallel on libuv's thread pool.
 */
export async function createPki(
  wanted: readonly ('master' | 'updaterH1' | 'updaterH2' | 'agentH2' | 'foreignMaster' | 'otherDomainMaster')[],
): Promise<Pki> {
  const [ca, foreignCa, clientKeys] = await Promise.all([
    createCa({ trustDomain: TRUST_DOMAIN }),
    wanted.includes('foreignMaster') ? createCa({ trustDomain: TRUST_DOMAIN }) : Promise.resolve(null),
    generateRsaKeyPair(),
  ]);
  const issue = async (name: (typeof wanted)[number]): Promise<CertifiedKey> => {
    const common = { ca, trustDomain: TRUST_DOMAIN, publicKeyPem: clientKeys.publicKeyPem };
    const server = { addresses: ['127.0.0.1'] };
    const cert = await (() => {
      switch (name) {
        case 'master':
          return issueCertificate({ ...common, role: 'master' });
        case 'updaterH1':
          return issueCertificate({ ...common, ...server, role: 'updater', host: 'h1' });
        case 'updaterH2':
          return issueCertificate({ ...common, ...server, role: 'updater', host: 'h2' });
        case 'agentH2':
          return issueCertificate({ ...common, ...server, role: 'agent', host: 'h2' });
        case 'foreignMaster':
          // Same trust domain, same role, another CA: only the chain tells it apart.
          return issueCertificate({ ...common, ca: foreignCa!, role: 'master' });
        case 'otherDomainMaster':
          // Signed by our CA, but speaks for another trust domain.
          return issueCertificate({ ...common, trustDomain: 'other.swarm', role: 'master' });
      }
    })();
    return { certPem: cert.certPem, keyPem: clientKeys.privateKeyPem };
  };
  const [agentH1, ...issued] = await Promise.all([
    issueCertificate({ ca, trustDomain: TRUST_DOMAIN, role: 'agent', host: 'h1', addresses: ['127.0.0.1'] }),
    ...wanted.map(issue),
  ]);
  return { ca, agentH1: agentH1!, clients: Object.fromEntries(wanted.map((name, i) => [name, issued[i]!])) };
}

/** A temp directory holding the agent's files as a worker bundle does; `env` points at them. */
export interface AgentFiles {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export async function writeAgentFiles(pki: Pki, extraEnv: NodeJS.ProcessEnv = {}): Promise<AgentFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-agent-pki-'));
  await writeFile(join(dir, 'ca.crt'), pki.ca.certPem);
  await writeFile(join(dir, 'agent.crt'), pki.agentH1.certPem);
  await writeFile(join(dir, 'agent.key'), pki.agentH1.keyPem, { mode: 0o600 });
  await chmod(join(dir, 'agent.key'), 0o600);
  return {
    dir,
    env: {
      SWARM_CA: join(dir, 'ca.crt'),
      SWARM_CERT: join(dir, 'agent.crt'),
      SWARM_KEY: join(dir, 'agent.key'),
      SWARM_AGENT_PORT: '0',
      SWARM_HOST: 'h1',
      SWARM_RELEASE_VERSION: '1.0.0',
      ...extraEnv,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** An answer, with its JSON body parsed. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/**
 * One HTTPS request on a fresh connection, verifying the agent against `pki.ca` and
 * presenting `client` (or no certificate at all). The server certificate is always verified against the CA.
 */
export function call(
  pki: Pki,
  port: number,
  path: string,
  client: CertifiedKey | null,
  options: Omit<RequestOptions, 'host' | 'port' | 'path' | 'ca' | 'cert' | 'key' | 'agent'> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: pki.ca.certPem,
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
        agent: false,
        ...options,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A request that is provably in flight: it sends `Expect: 100-continue` and a declared
 * body, and `continued` resolves once the agent's server has accepted the request (Node
 * answers 100 right before it runs the handler). `finish()` then sends the body.
 */
export function inFlight(
  pki: Pki,
  port: number,
  path: string,
  client: CertifiedKey,
): { continued: Promise<void>; answer: Promise<Answer>; finish(): void } {
  let onContinue!: () => void;
  const continued = new Promise<void>((r) => (onContinue = r));
  let finish!: () => void;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        ca: pki.ca.certPem,
        cert: client.certPem,
        key: client.keyPem,
        agent: false,
        headers: { expect: '100-continue', 'content-length': '2' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('continue', onContinue);
    req.on('error', reject);
    finish = () => req.end('{}');
  });
  // Some tests expect the answer to fail; they await it later, so mark it handled now.
  answer.catch(() => undefined);
  return { continued, answer, finish };
}

/** A line sink that keeps the agent's JSON log lines. */
export function collectLogs(): { sink: { write(line: string): boolean }; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, sink: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) > 0 } };
}

/** A child agent process, its parsed stderr lines, and helpers to wait on them. */
export interface AgentChild {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first log line for which `match` is true (rejects if the child exits first). */
  waitForLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

export function spawnAgent(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): AgentChild {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    // Only what a release gets, plus PATH: no NODE_OPTIONS (tsx) or NODE_PATH leaks in.
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }[] = [];
  createInterface({ input: child.stderr! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { unparsed: text };
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`agent exited (${code ?? signal}) first; log: ${JSON.stringify(lines)}`));
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    child,
    lines,
    exited,
    waitForLine(match) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(`agent already exited; log: ${JSON.stringify(lines)}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
  };
}

/** The port from the agent's `listening` line. */
export async function listeningPort(agent: AgentChild): Promise<number> {
  const line = await agent.waitForLine((l) => l.event === 'listening');
  return line.port as number;
}
