import { createUpdaterClient } from '@swarm/updater-client';
import { swarmError } from '@swarm/errors';
import { openHome, targetOf } from '@swarm/master';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';

/** `swarm releases --host NAME`: the releases a host retains (`GET /releases`). */
export const registerReleases: RegisterCommand = (program, ctx) => {
  program
    .command('releases')
    .summary('the releases a host retains')
    .description("List the releases a host's updater retains, with the active, previous and staged slots.")
    .requiredOption('--host <name>', 'the host to ask')
    .option('--json', 'print { releases } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm releases --host web-1
  $ swarm releases --host web-1 --json | jq -r '.releases[] | select(.slot == "prev") | .id'`,
    )
    .action(async (opts: { host: string; json: boolean }, cmd) => {
      const home = await openHome(ctx.home(cmd));
      const client = createUpdaterClient(home.master);
      let list;
      try {
        const host = home.registry.getHost(opts.host);
        if (!host) throw swarmError('SWARM_ERR_HOST_UNKNOWN', `no host named "${opts.host}" is enrolled`);
        list = await client.releases(targetOf(host));
      } finally {
        await client.close();
        home.close();
      }
      if (opts.json) {
        ctx.printJson(list);
        return;
      }
      ctx.print(
        formatTable(
          ['ID', 'NAME', 'VERSION', 'SLOT', 'INSTALLED', 'SHA256'],
          list.releases.map((r) => [r.id, r.name, r.version, r.slot ?? '-', r.installedAt, r.sha256]),
        ),
      );
    });
};
