import { DEFAULT_TRUST_DOMAIN } from '@swarm/pki';
import { initHome } from '@swarm/master';
import type { RegisterCommand } from '../program.js';

/** `swarm init`: create the master home (CA, master identity, registry). */
export const registerInit: RegisterCommand = (program, ctx) => {
  program
    .command('init')
    .summary('create the master home: CA, master identity and host registry')
    .description(
      'Create the master home (--home, SWARM_HOME, or ~/.swarm): a new CA, the master certificate\n' +
        'every push is made with, and an empty host registry. Refuses an existing home unless --force.',
    )
    .option('--trust-domain <domain>', 'SPIFFE trust domain of the new CA', DEFAULT_TRUST_DOMAIN)
    .option('--force', 'replace an existing master home (discards its CA: every host must be enrolled again)', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm init
  $ swarm init --home /srv/swarm --trust-domain prod.example.com
  $ SWARM_HOME=./demo-home swarm init --json`,
    )
    .action(async (opts: { trustDomain: string; force: boolean; json: boolean }, command) => {
      const result = await initHome({ home: ctx.home(command), trustDomain: opts.trustDomain, force: opts.force });
      if (opts.json) {
        ctx.printJson({
          home: result.paths.home,
          trustDomain: result.trustDomain,
          createdAt: result.createdAt,
          caFingerprint: result.caFingerprint,
          masterFingerprint: result.masterFingerprint,
          replaced: result.replaced,
        });
        return;
      }
      ctx.print(`${result.replaced ? 'replaced' : 'created'} master home ${result.paths.home}`);
      ctx.print(`trust domain  ${result.trustDomain}`);
      ctx.print(`ca pin        ${result.caFingerprint}`);
      ctx.print(`master pin    ${result.masterFingerprint}`);
      ctx.note(
        `next: swarm enroll --host NAME --address ADDR --updater   (back up ${result.paths.caDir}: it is the root of trust)`,
      );
    });
};
