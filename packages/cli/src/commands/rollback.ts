import { Option } from 'commander';
import { createUpdaterClient } from '@swarm/updater-client';
import { DEFAULT_POLICY, openHome } from '@swarm/master';
import { addTargetOptions, parseCount, selectTargets } from '../options/rollout-options.js';
import type { RegisterCommand } from '../program.js';
import { runLive } from '../rollout-output/run-live.js';

interface RollbackOptions {
  all: boolean;
  host?: string[];
  concurrency: number;
  json: boolean;
}

/** `swarm rollback`: take hosts back to their previous release, with the rollout engine. */
export const registerRollback: RegisterCommand = (program, ctx, exit) => {
  const command = program
    .command('rollback')
    .summary('roll hosts back to their previous release')
    .description(
      "Make each host's previous release active again: flip `current` back, restart the agent, probe it.\n" +
        'Runs through the same engine as update, without a canary; it carries on past a failed host unless --max-failures is given.',
    );
  addTargetOptions(command)
    .addOption(
      new Option('--concurrency <n>', 'hosts in flight at once')
        .argParser(parseCount('--concurrency', 1))
        .default(DEFAULT_POLICY.concurrency),
    )
    .addOption(
      new Option('--max-failures <n>', 'stop starting hosts once more than N failed')
        .argParser(parseCount('--max-failures', 0))
        .default(Number.MAX_SAFE_INTEGER, 'no limit'),
    )
    .option('--json', 'print { release, results } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm rollback --host web-1
  $ swarm rollback --all --json

Exit codes: 0 every host rolled back; 1 a host failed or was skipped; 2 usage error.`,
    )
    .action(async (opts: RollbackOptions & { maxFailures: number }, cmd) => {
      const home = await openHome(ctx.home(cmd));
      try {
        const hosts = selectTargets(home.registry, opts);
        const client = createUpdaterClient(home.master);
        try {
          await runLive(
            ctx,
            exit,
            {
              kind: 'rollback',
              hosts,
              registry: home.registry,
              client,
              policy: { concurrency: opts.concurrency, canary: 0, maxFailures: opts.maxFailures },
            },
            opts.json,
          );
        } finally {
          await client.close();
        }
      } finally {
        home.close();
      }
    });
};
