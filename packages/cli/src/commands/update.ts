import { createUpdaterClient } from '@swarm/updater-client';
import { swarmError } from '@swarm/errors';
import {
  openHome,
  openRegistryClient,
  planRollout,
  prepareRelease,
  resolveArtifact,
  type PackedRelease,
  type PreparedRelease,
  type PulledRelease,
  type RolloutPlan,
} from '@swarm/master';
import { formatReference, parseReference } from '@swarm/oci-client';
import { addRegistryOptions, registryAccess, type RegistryFlags } from '../options/registry-options.js';
import { addGateOptions, withGates, type GateFlags } from '../options/gate-options.js';
import { addPolicyOptions, addTargetOptions, selectTargets } from '../options/rollout-options.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';
import { runLive } from '../rollout-output/run-live.js';
import { selfReleaseTree } from '../self/self-release.js';

interface UpdateOptions extends GateFlags, RegistryFlags {
  all: boolean;
  host?: string[];
  tree?: string;
  tarball?: string;
  from?: string;
  includeSelf: boolean;
  selfTarball?: string;
  dryRun: boolean;
  concurrency: number;
  canary: number;
  maxFailures: number;
  force: boolean;
  stageOnly: boolean;
  json: boolean;
}

/** `swarm update`: roll a release out across hosts (wiki/reference/cli.md; wiki/rollouts.md). */
export const registerUpdate: RegisterCommand = (program, ctx, exit) => {
  const command = program
    .command('update')
    .summary('roll a release out: canary first, then N at a time, within a failure budget')
    .description(
      'Push a release to hosts over pinned mutual TLS. Canary hosts go first and alone, then the rest\n' +
        '--concurrency at a time; once more than --max-failures hosts failed or rolled back, no new host is\n' +
        'started (the rest are `skipped`). Hosts already on the digest are `up_to_date` unless --force.\n' +
        'First Ctrl-C: start no new host; second Ctrl-C: abort the hosts in flight too.',
    );
  addPolicyOptions(
    addGateOptions(addTargetOptions(command))
      .option('--tree <dir>', 'release tree to pack once for the whole rollout (default: the current directory)')
      .option('--tarball <file>', 'a release tarball packed before (e.g. by swarm pack)')
      .option(
        '--from <ref>',
        'have each host pull the release from an OCI registry: HOST[:PORT]/REPO@sha256:… or HOST[:PORT]/REPO:TAG (resolved once to a digest)',
      )
      .option(
        '--include-self',
        "also upgrade each host's updater to this master's version, after the application",
        false,
      )
      .option(
        '--self-tarball <file>',
        'also upgrade each updater to this updater release (e.g. from swarm pack --self)',
      )
      .option('--dry-run', 'ask every host /health and print the plan; change nothing', false),
  )
    .option('--force', 'push even to hosts already on the release', false)
    .option(
      '--stage-only',
      'stage the release on each host (transfer, verify, extract, install) without activating it: outcome staged',
      false,
    )
    .option('--json', 'print { release, results } as JSON', false);
  addRegistryOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm update --all --tree ./web
  $ swarm update --host web-1 --host web-2 --tarball web-1.4.2.tgz --force
  $ swarm update --all --tree ./web --canary 2 --concurrency 8 --max-failures 1
  $ swarm update --all --tree ./web --dry-run
  $ swarm update --all --tree ./web --stage-only   # by day; the same swarm update at night transfers nothing
  $ swarm update --all --from registry.example:5000/team/web:1.4.2 --registry-auth ~/.docker/config.json
  $ swarm update --all --tree ./web --include-self --json | jq '.results[] | select(.outcome != "updated")'

Exit codes: 0 every host updated (staged, with --stage-only) or up to date; 1 a host failed, rolled back or was skipped; 2 usage error.`,
    )
    .action(async (opts: UpdateOptions, cmd) => {
      if ([opts.tree, opts.tarball, opts.from].filter((v) => v !== undefined).length > 1)
        throw swarmError('SWARM_ERR_USAGE_INVALID', 'give at most one of --tree, --tarball and --from');
      const from = opts.from !== undefined ? parseReference(opts.from, '--from') : null;
      if (opts.includeSelf && opts.selfTarball)
        throw swarmError('SWARM_ERR_USAGE_INVALID', '--include-self and --self-tarball cannot be used together');
      if (opts.stageOnly && (opts.includeSelf || opts.selfTarball))
        throw swarmError(
          'SWARM_ERR_USAGE_INVALID',
          '--stage-only stages an application release; upgrade updaters in a rollout of their own',
        );
      const homeDir = ctx.home(cmd);
      const home = await openHome(homeDir);
      const prepared: PreparedRelease[] = [];
      try {
        const hosts = selectTargets(home.registry, opts);
        let release: PackedRelease;
        let pulled: PulledRelease | null = null;
        if (from) {
          const oci = await openRegistryClient(registryAccess(opts, ctx));
          let resolved: PulledRelease;
          try {
            resolved = await resolveArtifact(oci, from);
          } finally {
            await oci.close();
          }
          pulled = resolved;
          release = resolved;
          ctx.note(`${formatReference(from)} is ${resolved.from}: every host pulls that digest`);
        } else {
          const packed = await prepareRelease(
            opts.tarball ? { tarball: opts.tarball } : { tree: opts.tree ?? '.', exclude: [homeDir] },
          );
          prepared.push(packed);
          release = packed;
        }
        const self = opts.includeSelf
          ? await prepareRelease({ tree: selfReleaseTree() })
          : opts.selfTarball
            ? await prepareRelease({ tarball: opts.selfTarball })
            : null;
        if (self) prepared.push(self);
        if (opts.includeSelf && self && self.version !== ctx.version) {
          throw swarmError(
            'SWARM_ERR_PACK_TREE_INVALID',
            `the built updater release is ${self.version}, not ${ctx.version}: run npm run build`,
          );
        }
        const policy = { concurrency: opts.concurrency, canary: opts.canary, maxFailures: opts.maxFailures };
        const client = createUpdaterClient(home.master);
        try {
          if (opts.dryRun) {
            const plan = await planRollout({
              hosts,
              client,
              release,
              self,
              force: opts.force,
              stageOnly: opts.stageOnly,
              policy,
              ...(opts.window ? { windows: opts.window } : {}),
            });
            if (opts.json) ctx.printJson(pulled ? { ...plan, from: pulled.from } : plan);
            else ctx.print(`${pulled ? `from ${pulled.from}\n` : ''}${planTable(plan)}`);
            return;
          }
          ctx.note(
            `release ${release.name} ${release.version} sha256 ${release.sha256} (${release.size} bytes) → ${hosts.length} host(s)${pulled ? ', pulled by each from the registry' : ''}`,
          );
          await runLive(
            ctx,
            exit,
            {
              kind: 'update',
              hosts,
              registry: home.registry,
              client,
              release,
              self,
              force: opts.force,
              stageOnly: opts.stageOnly,
              policy,
              ...withGates(opts, ctx),
            },
            opts.json,
          );
        } finally {
          await client.close();
        }
      } finally {
        for (const p of prepared) await p.dispose();
        home.close();
      }
    });
};

function planTable(plan: RolloutPlan): string {
  const head = plan.release
    ? `release ${plan.release.name} ${plan.release.version} sha256 ${plan.release.sha256} (${plan.release.size} bytes)`
    : 'no application release';
  const self = plan.self ? `\nupdater release ${plan.self.version} sha256 ${plan.self.sha256}` : '';
  const policy = `\ncanary ${plan.policy.canary}, concurrency ${plan.policy.concurrency}, max failures ${plan.policy.maxFailures}\n`;
  const window = plan.window
    ? plan.window.open
      ? 'maintenance window: open now\n'
      : `maintenance window: closed; the next opens at ${plan.window.nextOpening ?? 'no time within a week'}\n`
    : '';
  return (
    head +
    self +
    policy +
    window +
    formatTable(
      ['#', 'HOST', 'STAGE', 'ACTIVE', 'UPDATER', 'ACTION'],
      plan.hosts.map((h) => [
        String(h.order),
        h.host,
        h.stage,
        h.active?.id ?? '-',
        h.updaterVersion ?? '-',
        h.error ? `${h.action}: ${h.error.code}` : h.action,
      ]),
    )
  );
}
