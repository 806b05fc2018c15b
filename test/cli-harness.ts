// Runs the real `swarm` CLI in-process (its `run` takes the process as an argument) and
// collects what it writes, for the test/cli-*.test.ts files.
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { run } from '@swarm/cli';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `swarm ...args` with `env` as the whole environment. */
export async function swarm(args: readonly string[], env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv: args,
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** `openssl x509 -fingerprint -sha256` of a certificate file, as a swarm pin. */
export function opensslPin(certFile: string): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile], {
    encoding: 'utf8',
  });
  const m = /Fingerprint=([0-9A-Fa-f:]+)/.exec(out);
  if (!m) throw new Error(`unexpected openssl output: ${out}`);
  return m[1]!.replaceAll(':', '').toLowerCase();
}

/** Every path under `dir`, relative, sorted: to prove a failed command wrote nothing. */
export async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}
