import { isFailure, runRollout, type RolloutOptions } from '@swarm/master';
import type { CliContext } from '../context.js';
import type { ExitStatus } from '../program.js';
import { rolloutInterrupts } from './interrupts.js';
import { createProgressView } from './progress.js';
import { resultsTable } from './results.js';

/**
 * Run a rollout the way `swarm update` and `swarm rollback` show it: live progress on
 * stderr, Ctrl-C handling, then the results (table, or JSON with `json`) on stdout and exit
 * code 1 when a host failed (wiki/reference/cli.md).
 */
export async function runLive(
  ctx: CliContext,
  exit: ExitStatus,
  options: Omit<RolloutOptions, 'stop' | 'abort' | 'onEvent'>,
  json: boolean,
): Promise<void> {
  const view = createProgressView(
    ctx.stderr,
    options.hosts.map((h) => h.name),
  );
  const interrupts = rolloutInterrupts((line) => ctx.note(line));
  let result;
  try {
    result = await runRollout({
      ...options,
      stop: interrupts.stop,
      abort: interrupts.abort,
      onEvent: (e) => view.onEvent(e),
    });
  } finally {
    view.stop();
    interrupts.dispose();
  }
  if (json) ctx.printJson(result);
  else ctx.print(resultsTable(result));
  if (result.results.some((r) => isFailure(r.outcome, options.kind))) exit.code = 1;
}
