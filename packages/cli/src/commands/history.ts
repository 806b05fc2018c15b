import { Option } from 'commander';
import { openHome } from '@swarm/master';
import type { Operation } from '@swarm/inventory';
import { parseCount } from '../options/rollout-options.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';

/** `swarm history`: past operations and their per-host outcomes. */
export const registerHistory: RegisterCommand = (program, ctx) => {
  program
    .command('history')
    .summary('past operations and their outcomes')
    .description(
      'List past operations (update, rollback, update-self), newest first: who ran them, the release, and each\n' +
        "host's outcome and error code. An operation whose command died before finishing is shown as interrupted.",
    )
    .option('--host <name>', "only operations that touched this host (with only this host's outcome)")
    .addOption(new Option('--limit <n>', 'at most N operations').argParser(parseCount('--limit', 1)).default(20))
    .option('--json', 'print the operations as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm history
  $ swarm history --host web-1 --json | jq '.[0].hosts'`,
    )
    .action(async (opts: { host?: string; limit: number; json: boolean }, cmd) => {
      const home = await openHome(ctx.home(cmd));
      let operations: Operation[];
      try {
        operations = home.registry
          .listOperations({ ...(opts.host ? { host: opts.host } : {}), limit: opts.limit })
          .map(settle);
      } finally {
        home.close();
      }
      if (opts.json) {
        ctx.printJson(operations);
        return;
      }
      if (operations.length === 0) {
        ctx.note('no operations recorded yet');
        return;
      }
      const rows = operations.flatMap((op) => {
        const release = op.release ? `${op.release.name} ${op.release.version}` : '-';
        const head = [String(op.id), op.startedAt, op.kind, op.status, release, op.actor];
        if (op.hosts.length === 0) return [[...head, '-', '-', '']];
        return op.hosts.map((h, i) => [
          ...(i === 0 ? head : ['', '', '', '', '', '']),
          h.host,
          h.outcome,
          h.error ? `${h.error.code}: ${h.error.message}` : '',
        ]);
      });
      ctx.print(formatTable(['ID', 'STARTED', 'KIND', 'STATUS', 'RELEASE', 'BY', 'HOST', 'OUTCOME', 'MESSAGE'], rows));
    });
};

/**
 * An operation still `running` whose command is gone (killed, crashed, machine rebooted)
 * was interrupted: say so, rather than pretend it is still going.
 */
function settle(op: Operation): Operation {
  if (op.status !== 'running') return op;
  const pid = op.options.pid;
  const alive = typeof pid === 'number' && pid !== process.pid && isAlive(pid);
  return alive ? op : { ...op, status: 'interrupted' };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
