import { openHome } from '@swarm/master';
import { hostJson } from '../output/host-json.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';

/** Pins are 64 hex digits; a table shows a prefix (enough to tell hosts apart), JSON the whole pin. */
const PIN_SHOWN = 16;

/** `swarm hosts`: list enrolled hosts and their pins. */
export const registerHosts: RegisterCommand = (program, ctx) => {
  program
    .command('hosts')
    .summary('list enrolled hosts')
    .description('List the enrolled hosts: address, ports and the pins (SHA-256) of their certificates.')
    .option('--json', 'print the hosts as a JSON array (full pins)', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm hosts
  $ swarm hosts --json | jq -r '.[] | select(.updaterFingerprint == null) | .name'`,
    )
    .action(async (opts: { json: boolean }, command) => {
      const home = await openHome(ctx.home(command));
      let hosts;
      try {
        hosts = home.registry.listHosts();
      } finally {
        home.close();
      }
      if (opts.json) {
        ctx.printJson(hosts.map(hostJson));
        return;
      }
      if (hosts.length === 0) {
        ctx.note('no hosts enrolled yet; add one with: swarm enroll --host NAME --address ADDR --updater');
        return;
      }
      const pin = (p: string | null) => (p === null ? 'none' : `${p.slice(0, PIN_SHOWN)}…`);
      ctx.print(
        formatTable(
          ['HOST', 'ADDRESS', 'UPDATER', 'AGENT', 'UPDATER PIN', 'AGENT PIN', 'ENROLLED'],
          hosts.map((h) => [
            h.name,
            h.address,
            String(h.updaterPort),
            String(h.agentPort),
            pin(h.updaterFingerprint),
            pin(h.agentFingerprint),
            h.enrolledAt,
          ]),
        ),
      );
    });
};
