import { swarmError } from '@swarm/errors';
import type { Registry } from '@swarm/inventory';
import {
  openHome,
  planRollout,
  prepareRelease,
  type PreparedRelease,
  type RolloutPlan,
} from '@swarm/master';
import { createUpdaterClient } from '@swarm/updater-client';
import { addGateOptions, withGates, type GateFlags } from '../options/gate-options.js';
import { addPolicyOptions, addTargetOptions, selectTargets } from '../options/rollout-options.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';
import { runLive } from '../rollout-output/run-live.js';

interface ActivateOptions extends GateFlags {
  all: boolean;
  host?: string[];
  sha256?: string;
  tree?: string;
  tarball?: string;
  dryRun: boolean;
  concurrency: number;
  canary: number;
  maxFailures: number;
  json: boolean;
}

/** The release an activation names: its digest, with name and version for the record. */
interface ActivationRelease {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
}

/** `swarm activate`: a rollout of the switch to the release each host holds staged. */
export const registerActivate: RegisterCommand = (program, ctx, exit) => {
  const command = program
    .command('activate')
    .summary('activate the release staged on hosts (swarm update --stage-only): no transfer, a switch')
    .description(
      'Activate the staged release on hosts: each updater flips current to it, restarts the agent and probes\n' +
        'it (and rolls back by itself when the probe fails); nothing is transferred. Canary hosts go first, then\n' +
        '--concurrency at a time, within the --max-failures budget, as with swarm update. Without a release\n' +
        'option it activates the release of the most recent `swarm update --stage-only` rollout. A host that\n' +
        'does not hold it staged is failed with SWARM_ERR_NOTHING_STAGED; a host already running it is up_to_date.',
    );
  addPolicyOptions(
    addGateOptions(addTargetOptions(command))
      .option('--sha256 <hex>', 'the staged release to activate, by digest')
      .option('--tree <dir>', 'the staged release to activate, as the tree it was packed from')
      .option('--tarball <file>', 'the staged release to activate, as its tarball')
      .option('--dry-run', 'ask every host /health and print the plan; change nothing', false),
  )
    .option('--json', 'print { release, results } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm update --all --tree ./web --stage-only     # by day
  $ swarm activate --all --canary 2                  # in the window: the release staged above
  $ swarm activate --host web-1 --sha256 3f2a…       # a given staged digest
  $ swarm activate --all --dry-run

Exit codes: 0 every host updated or up to date; 1 a host failed, rolled back or was skipped; 2 usage error.`,
    )
    .action(async (opts: ActivateOptions, cmd) => {
      const given = [opts.sha256, opts.tree, opts.tarball].filter((x) => x !== undefined).length;
      if (given > 1) throw swarmError('SWARM_ERR_USAGE_INVALID', 'give at most one of --sha256, --tree and --tarball');
      if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) {
        throw swarmError('SWARM_ERR_USAGE_INVALID', `--sha256 takes 64 hex digits, not "${opts.sha256}"`);
      }
      const homeDir = ctx.home(cmd);
      const home = await openHome(homeDir);
      let prepared: PreparedRelease | null = null;
      try {
        const hosts = selectTargets(home.registry, opts);
        let release: ActivationRelease;
        if (opts.tree !== undefined || opts.tarball !== undefined) {
          const packed = await prepareRelease(
            opts.tarball !== undefined ? { tarball: opts.tarball } : { tree: opts.tree!, exclude: [homeDir] },
          );
          prepared = packed;
          release = { name: packed.name, version: packed.version, sha256: packed.sha256 };
        } else {
          release = stagedRelease(home.registry, opts.sha256?.toLowerCase());
        }
        const policy = { concurrency: opts.concurrency, canary: opts.canary, maxFailures: opts.maxFailures };
        const client = createUpdaterClient(home.master);
        try {
          if (opts.dryRun) {
            const plan = await planRollout({
              hosts,
              client,
              release,
              self: null,
              force: false,
              activate: true,
              policy,
              ...(opts.window ? { windows: opts.window } : {}),
            });
            if (opts.json) ctx.printJson(plan);
            else ctx.print(planTable(plan));
            return;
          }
          ctx.note(`activating ${release.name} ${release.version} sha256 ${release.sha256} on ${hosts.length} host(s)`);
          await runLive(
            ctx,
            exit,
            {
              kind: 'activate',
              hosts,
              registry: home.registry,
              client,
              activate: release,
              policy,
              ...withGates(opts, ctx),
            },
            opts.json,
          );
        } finally {
          await client.close();
        }
      } finally {
        await prepared?.dispose();
        home.close();
      }
    });
};

/**
 * The release to activate when it is named by digest or not at all: the release of a rollout
 * in the history — the most recent `--stage-only` one, or the most recent one with that
 * digest (for its name and version).
 */
function stagedRelease(registry: Registry, sha256: string | undefined): ActivationRelease {
  const operations = registry.listOperations({ limit: 1000 });
  const found = sha256
    ? operations.find((op) => op.release?.sha256 === sha256)
    : operations.find((op) => op.kind === 'stage' && op.release);
  if (found?.release) return found.release;
  throw swarmError(
    'SWARM_ERR_NOTHING_STAGED',
    sha256
      ? `no rollout in the history staged or pushed ${sha256}: give --tree or --tarball of the staged release`
      : 'no `swarm update --stage-only` rollout in the history: stage a release first, or name one with --sha256, --tree or --tarball',
  );
}

function planTable(plan: RolloutPlan): string {
  const head = plan.release
    ? `activate ${plan.release.name} ${plan.release.version} sha256 ${plan.release.sha256}`
    : '';
  const policy = `\ncanary ${plan.policy.canary}, concurrency ${plan.policy.concurrency}, max failures ${plan.policy.maxFailures}\n`;
  const window = plan.window
    ? plan.window.open
      ? 'maintenance window: open now\n'
      : `maintenance window: closed; the next opens at ${plan.window.nextOpening ?? 'no time within a week'}\n`
    : '';
  return (
    head +
    policy +
    window +
    formatTable(
      ['#', 'HOST', 'STAGE', 'ACTIVE', 'STAGED', 'ACTION'],
      plan.hosts.map((h) => [
        String(h.order),
        h.host,
        h.stage,
        h.active?.id ?? '-',
        h.staged?.id ?? '-',
        h.error ? `${h.action}: ${h.error.code}` : h.action,
      ]),
    )
  );
}
