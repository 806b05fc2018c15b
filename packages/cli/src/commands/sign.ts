import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { inspectRelease } from '@swarm/bundle';
import { writeFileAtomic } from '@swarm/pki';
import { parseEnvelope, readSigningKey, signRelease, type Envelope } from '@swarm/signing';
import { parseDuration } from '../options/gate-options.js';
import type { RegisterCommand } from '../program.js';

interface SignFlags {
  key: string;
  tarball: string;
  expires?: number;
  allowDowngrade: boolean;
  out?: string;
  json: boolean;
}

/** `swarm sign`: a DSSE envelope over a release statement of a tarball (wiki/signing.md). */
export const registerSign: RegisterCommand = (program, ctx) => {
  program
    .command('sign')
    .summary('sign a release tarball: a DSSE envelope beside it (<tarball>.sig)')
    .description(
      'Check the tarball as an updater would, then sign the statement { name, version, sha256, size, signedAt,\n' +
        'expires, allowDowngrade } with an Ed25519 key (swarm keygen), as a DSSE envelope. When the envelope file\n' +
        'exists already, the signature is added to it (several keys may sign one release, e.g. during a rotation).',
    )
    .requiredOption('--key <file>', 'the private release key (release.key)')
    .requiredOption('--tarball <file>', 'the release tarball to sign')
    .addOption(
      new Option('--expires <duration>', 'the statement expires after this long (30d, 12h…); default: never').argParser(
        parseDuration('--expires'),
      ),
    )
    .option('--allow-downgrade', 'the statement allows installing it over a higher version', false)
    .option('-o, --out <file>', 'the envelope file (default: <tarball>.sig)')
    .option('--json', 'print { keyid, file, statement } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm sign --key release.key --tarball web-1.4.2.tgz
  $ swarm sign --key release.key --tarball web-1.4.2.tgz --expires 30d
  $ swarm sign --key new-release.key --tarball web-1.4.2.tgz   # a second signature, during a key rotation`,
    )
    .action(async (opts: SignFlags) => {
      const tarball = resolve(opts.tarball);
      const out = resolve(opts.out ?? `${tarball}.sig`);
      const key = await readSigningKey(resolve(opts.key));
      const inspected = await inspectRelease(tarball);
      const into = await existingEnvelope(out);
      const { envelope, statement } = signRelease(
        { name: inspected.manifest.name, version: inspected.manifest.version, sha256: inspected.sha256, size: inspected.size },
        key,
        { expiresInMs: opts.expires ?? null, allowDowngrade: opts.allowDowngrade, ...(into ? { into } : {}) },
      );
      await writeFileAtomic(out, `${JSON.stringify(envelope, null, 2)}\n`, 0o644);
      if (opts.json) {
        ctx.printJson({ keyid: key.keyid, file: out, signatures: envelope.signatures.length, statement });
        return;
      }
      ctx.print(`${key.keyid}  ${statement.name} ${statement.version}  sha256 ${statement.sha256}  ${out}`);
      ctx.note(
        `${into ? 'added a signature to' : 'wrote'} ${out} (${envelope.signatures.length} signature(s)${statement.expires ? `, expires ${statement.expires}` : ''})`,
      );
    });
};

/** The envelope already at `file`, to add a signature to; null when there is none. */
async function existingEnvelope(file: string): Promise<Envelope | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseEnvelope(bytes);
}
