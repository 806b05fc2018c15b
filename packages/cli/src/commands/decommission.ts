import { decommissionHost } from '@swarm/master';
import { hostJson } from '../output/host-json.js';
import type { RegisterCommand } from '../program.js';

/** `swarm decommission`: forget a host and its pins. */
export const registerDecommission: RegisterCommand = (program, ctx) => {
  program
    .command('decommission')
    .summary('remove a host and its pins')
    .description(
      'Remove a host from the registry with the pins of its certificates, so the master no longer\n' +
        'talks to it, and delete its bundle under <home>/bundles/ if it is still there. Its history is kept.',
    )
    .requiredOption('--host <name>', 'the host to remove')
    .option('--json', 'print what was removed as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm decommission --host web-3
  # re-issue a host's certificates (e.g. after a key leaked):
  $ swarm decommission --host web-3 && swarm enroll --host web-3 --address 10.0.0.13 --updater`,
    )
    .action(async (opts: { host: string; json: boolean }, command) => {
      const result = await decommissionHost({ home: ctx.home(command), name: opts.host });
      if (opts.json) {
        ctx.printJson({ host: hostJson(result.host), bundleRemoved: result.bundleRemoved });
        return;
      }
      ctx.print(`decommissioned ${result.host.name}: its pins are removed from the registry`);
      if (result.bundleRemoved) ctx.print(`deleted bundle ${result.bundleRemoved}`);
      ctx.note(
        `note: ${result.host.name}'s certificates remain valid until they expire; if a key leaked, see wiki/pki.md`,
      );
    });
};
