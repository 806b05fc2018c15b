import { resolve } from 'node:path';
import { generateReleaseKeys } from '@swarm/signing';
import type { RegisterCommand } from '../program.js';

/** `swarm keygen`: an Ed25519 release signing key pair (wiki/signing.md). */
export const registerKeygen: RegisterCommand = (program, ctx) => {
  program
    .command('keygen')
    .summary('make an Ed25519 key pair for signing releases')
    .description(
      'Write release.key (PKCS#8 PEM, 0600, in a 0700 directory) and release.pub (SPKI PEM) to --out.\n' +
        'Keep release.key off the master (a CI secret, an offline machine); give release.pub to each\n' +
        "updater's --trusted-keys. The key id is the first 16 hex digits of the SHA-256 of the public key's DER.\n" +
        'An existing key is never overwritten.',
    )
    .requiredOption('--out <dir>', 'where to write release.key and release.pub')
    .option('--json', 'print { keyid, key, pub } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm keygen --out ./release-keys
  $ swarm sign --key ./release-keys/release.key --tarball web-1.4.2.tgz`,
    )
    .action(async (opts: { out: string; json: boolean }) => {
      const made = await generateReleaseKeys(resolve(opts.out));
      if (opts.json) {
        ctx.printJson({ keyid: made.keyid, key: made.keyFile, pub: made.pubFile });
        return;
      }
      ctx.print(`${made.keyid}  ${made.pubFile}`);
      ctx.note(`private key: ${made.keyFile} (0600) — keep it off the master; trust ${made.pubFile} on the hosts (--trusted-keys)`);
    });
};
