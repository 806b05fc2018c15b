import cliProgress from 'cli-progress';
import { resolve } from 'node:path';
import { swarmError } from '@swarm/errors';
import { openRegistryClient, publishRelease } from '@swarm/master';
import { parseReference } from '@swarm/oci-client';
import { addRegistryOptions, registryAccess, type RegistryFlags } from '../options/registry-options.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';

interface PublishFlags extends RegistryFlags {
  tree?: string;
  tarball?: string;
  json: boolean;
}

/** `swarm publish REF`: push a release to an OCI registry as an artifact (wiki/registry-pull.md). */
export const registerPublish: RegisterCommand = (program, ctx) => {
  const command = program
    .command('publish')
    .argument('<ref>', 'HOST[:PORT]/REPOSITORY[:TAG]: where to publish')
    .summary('publish a release to an OCI registry, for swarm update --from')
    .description(
      'Push a release to an OCI registry as a swarm artifact: its release.json as the config blob, the tarball\n' +
        '(the very one `swarm pack` makes of the tree) as the first layer, and the manifest, under TAG when given.\n' +
        'Blobs the registry already has are not sent again: publishing the same tree twice gives the same digest.\n' +
        'Prints name, version, sha256 (the tarball), size, reference and digest (the manifest).',
    )
    .option('--tree <dir>', 'the release tree (default: the current directory)')
    .option('--tarball <file>', 'a release tarball packed before (e.g. by swarm pack)')
    .option('--json', 'print { name, version, sha256, size, reference, digest } as JSON', false);
  addRegistryOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm publish registry.example:5000/team/web:1.4.2 --tree ./web
  $ swarm publish registry.example:5000/team/web:1.4.2 --tarball web-1.4.2.tgz --registry-auth ~/.docker/config.json
  $ swarm update --all --from "$(swarm publish registry.example:5000/team/web:1.4.2 --json | jq -r .reference)"`,
    )
    .action(async (ref: string, opts: PublishFlags, cmd) => {
      if (opts.tree && opts.tarball) throw swarmError('SWARM_ERR_USAGE_INVALID', '--tree and --tarball cannot be used together');
      const reference = parseReference(ref);
      const client = await openRegistryClient(registryAccess(opts, ctx));
      const tty = ctx.stderr.isTTY === true && typeof (ctx.stderr as { cursorTo?: unknown }).cursorTo === 'function';
      const bar = tty
        ? new cliProgress.SingleBar(
            { stream: ctx.stderr as NodeJS.WriteStream, format: 'publish {bar} {value}/{total} bytes', hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : null;
      try {
        const result = await publishRelease({
          client,
          reference,
          source: opts.tarball ? { tarball: opts.tarball } : { tree: resolve(opts.tree ?? '.'), exclude: [ctx.home(cmd)] },
          onProgress: (sent, total) => {
            if (!bar) return;
            if (bar.getTotal() !== total) bar.start(total, 0);
            bar.update(sent);
          },
        });
        bar?.stop();
        const note = result.pushed.length === 0 ? 'the registry had every blob: none sent' : `sent: ${result.pushed.join(', ')}`;
        ctx.note(`published ${result.name} ${result.version} as ${result.reference}${result.tag ? ` (tag ${result.tag})` : ''}; ${note}`);
        const { name, version, sha256, size, digest } = result;
        if (opts.json) {
          ctx.printJson({ name, version, sha256, size, reference: result.reference, digest });
          return;
        }
        ctx.print(formatTable(['NAME', 'VERSION', 'SHA256', 'SIZE', 'REFERENCE'], [[name, version, sha256, String(size), result.reference]]));
      } finally {
        bar?.stop();
        await client.close();
      }
    });
};
