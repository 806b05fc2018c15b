import { resolve } from 'node:path';
import { packRelease } from '@swarm/bundle';
import { swarmError } from '@swarm/errors';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';
import { packSelfRelease } from '../self/self-release.js';

/** `swarm pack`: build a reproducible release tarball (wiki/reference/layouts.md#release-tarball, cli.md). */
export const registerPack: RegisterCommand = (program, ctx) => {
  program
    .command('pack')
    .summary('build a release tarball from a tree with release.json')
    .description(
      'Build a reproducible gzipped release tarball: sorted entries, fixed times and owners, normalized modes — ' +
        'the same tree always gives the same sha256. Without `files` in release.json the whole tree ships except ' +
        '.git, .swarm, *.key, *.pem, .env, .env.* and the master home. With --self, pack the updater of this installation.',
    )
    .option('--tree <dir>', 'the release tree (default: the current directory)')
    .option('--self', "pack this installation's updater as an updater release", false)
    .option('-o, --out <file>', 'where to write the tarball (default: <name>-<version>.tgz here)')
    .option('--json', 'print { name, version, sha256, size, file } as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm pack --tree ./web -o web.tgz
  $ swarm pack --self -o swarm-updater.tgz
  $ swarm pack --json | jq -r .sha256`,
    )
    .action(async (opts: { tree?: string; self: boolean; out?: string; json: boolean }, command) => {
      if (opts.self && opts.tree)
        throw swarmError('SWARM_ERR_USAGE_INVALID', '--tree and --self cannot be used together');
      const packed = opts.self
        ? await packSelfRelease({ out: opts.out, version: ctx.version })
        : await packRelease({
            tree: resolve(opts.tree ?? '.'),
            ...(opts.out ? { out: opts.out } : {}),
            exclude: [ctx.home(command)],
          });
      if (opts.json) {
        ctx.printJson({
          name: packed.name,
          version: packed.version,
          sha256: packed.sha256,
          size: packed.size,
          file: packed.file,
        });
        return;
      }
      ctx.print(
        formatTable(
          ['NAME', 'VERSION', 'SHA256', 'SIZE', 'FILES', 'FILE'],
          [[packed.name, packed.version, packed.sha256, String(packed.size), String(packed.fileCount), packed.file]],
        ),
      );
      for (const skipped of packed.skipped ?? []) ctx.note(`left out ${skipped.path}: ${skipped.reason}`);
    });
};
