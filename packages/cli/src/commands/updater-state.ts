import type { Command } from 'commander';
import { swarmError } from '@swarm/errors';
import { readInstallState, type HistoryEntry, type JournalState } from '@swarm/updater';
import type { CliContext } from '../context.js';
import { formatTable } from '../output/table.js';
import type { ExitStatus } from '../program.js';

/** How many finished operations `swarm updater state` shows. */
const LAST_OPERATIONS = 10;

/** True when a release is staged and waiting: staged, and no activation of it in flight. */
function stagedAndWaiting(state: JournalState): boolean {
  return state.staged !== null && state.inFlight?.kind !== 'activate';
}

/**
 * `swarm updater state`: the host's local state from its journal, without the daemon and
 * without changing anything — for an operator on the worker, and for external coordinators
 * (`--staged` is a sentinel, like the Bottlerocket update checker that Kured runs).
 */
export function registerUpdaterState(updater: Command, ctx: CliContext, exit: ExitStatus): void {
  updater
    .command('state')
    .summary("the host's update state, read from the install directory (no daemon needed)")
    .description(
      'Print the active, previous and staged releases, the operation in flight and the last operations,\n' +
        "read from the install directory's journal. Works while the updater is stopped or busy, and changes\n" +
        'nothing. With --staged the exit status says whether a release is staged and waiting to be activated\n' +
        '(0) or not (1), for a cron job or a Kured-style coordinator that decides when a host may switch.',
    )
    .option('--install-dir <dir>', 'the install directory of the updater (required)')
    .option('--json', 'print the state as JSON', false)
    .option('--staged', 'exit 0 when a release is staged and waiting, 1 when not', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm updater state --install-dir /var/lib/swarm/app
  $ swarm updater state --install-dir /var/lib/swarm/app --json | jq .staged
  $ swarm updater state --install-dir /var/lib/swarm/app --staged >/dev/null && drain-and-activate.sh`,
    )
    .action(async (opts: { json: boolean; staged: boolean }, cmd: Command) => {
      // `swarm updater` has an --install-dir of its own, which commander fills wherever the
      // flag stands: read it with the parent's options.
      const { installDir } = cmd.optsWithGlobals<{ installDir?: string }>();
      if (installDir === undefined) {
        throw swarmError('SWARM_ERR_USAGE_INVALID', "required option '--install-dir <dir>' not specified");
      }
      const state = await readInstallState(installDir);
      const history = state.history.slice(-LAST_OPERATIONS).reverse();
      if (opts.json) {
        ctx.printJson({
          installDir,
          active: state.active,
          prev: state.prev,
          staged: state.staged,
          stagedWaiting: stagedAndWaiting(state),
          inFlight: state.inFlight,
          history,
        });
      } else {
        const release = (r: JournalState['active']) => (r ? `${r.name} ${r.version} (${r.id})` : '-');
        const op = state.inFlight;
        const rows: [string, string][] = [
          ['active', release(state.active)],
          ['prev', release(state.prev)],
          ['staged', release(state.staged)],
          ['in flight', op ? `${op.kind} ${op.id}, phase ${op.phase}, since ${op.startedAt}` : '-'],
        ];
        for (const [key, value] of rows) ctx.print(`${key.padEnd(11)}${value}`);
        if (history.length > 0) {
          ctx.print('');
          ctx.print(
            formatTable(
              ['FINISHED', 'KIND', 'OUTCOME', 'RELEASE', 'ERROR'],
              history.map((h: HistoryEntry) => [
                h.finishedAt,
                h.kind,
                h.outcome,
                h.release ? `${h.release.name} ${h.release.version}` : '-',
                h.error ? `${h.error.code}: ${h.error.message}` : '',
              ]),
            ),
          );
        }
      }
      if (opts.staged && !stagedAndWaiting(state)) exit.code = 1;
    });
}
