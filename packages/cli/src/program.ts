/**
 * The `swarm` program and its command table.
 *
 * Adding a command (pack, update, status, releases, rollback, history, updater, agent…):
 *
 * 1. Create `src/commands/<verb>.ts` exporting one `register<Verb>: RegisterCommand`. It
 *    calls `program.command('<verb>')` and sets, in this order: `.summary()` (one line,
 *    for `swarm --help`), `.description()`, its options (`--json` wherever it prints
 *    results), `.addHelpText('after', ...)` with an `Examples:` block, and `.action()`.
 * 2. Add it to {@link COMMANDS} below, where it belongs in `swarm --help`.
 *
 * Rules for actions:
 * - Throw `swarmError(code, …)` for anything the operator can hit; never write an error
 *   yourself, never call `process.exit`. `run` renders the error (code + hint) and picks
 *   the exit code; the bin is the only place that touches the process.
 * - Data goes to stdout through `ctx.print` / `ctx.printJson` (with `--json`, exactly one
 *   JSON document and nothing else); notes, logs and progress go to stderr (`ctx.note`,
 *   `ctx.stderr`, progress only when `ctx.stderr.isTTY`).
 * - A command that reports per-host results (update, rollback…) prints them, then sets
 *   `exit.code = 1` on the {@link ExitStatus} it was registered with when a host failed
 *   (SPEC.md §7), instead of throwing.
 * - The master home is `ctx.home(command)` (global `--home`, then `SWARM_HOME`, then ~/.swarm).
 */
import { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerDecommission } from './commands/decommission.js';
import { registerEnroll } from './commands/enroll.js';
import { registerHosts } from './commands/hosts.js';
import { registerInit } from './commands/init.js';
import { registerAgent } from './commands/agent.js';
import { registerHistory } from './commands/history.js';
import { registerPack } from './commands/pack.js';
import { registerReleases } from './commands/releases.js';
import { registerRollback } from './commands/rollback.js';
import { registerStatus } from './commands/status.js';
import { registerUpdate } from './commands/update.js';
import { registerUpdater } from './commands/updater.js';

/** Exit status a command may raise without throwing (e.g. 1 when some host failed). */
export interface ExitStatus {
  code: number;
}

/** The uniform signature of a command module: add one command to `program`. */
export type RegisterCommand = (program: Command, ctx: CliContext, exit: ExitStatus) => void;

/** Every command, in `swarm --help` order. */
export const COMMANDS: readonly RegisterCommand[] = [
  // master side
  registerInit,
  registerEnroll,
  registerHosts,
  registerStatus,
  registerPack,
  registerUpdate,
  registerRollback,
  registerReleases,
  registerHistory,
  registerDecommission,
  // worker side
  registerUpdater,
  registerAgent,
];

/**
 * Build a fresh program (commander keeps parse state on the instance, so one per run).
 * It never exits the process and writes only to the context's streams.
 */
export function buildProgram(ctx: CliContext, exit: ExitStatus): Command {
  const program = new Command('swarm')
    .description('swarm: push releases to a fleet of worker hosts over mutual TLS')
    .version(ctx.version, '-V, --version', "print swarm's version")
    .option('--home <dir>', 'master home (default: $SWARM_HOME, else ~/.swarm)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
      // Usage errors are rendered by run() in the one error format, with code and hint.
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm init
  $ swarm enroll --host web-1 --address 10.0.0.11 --updater
  $ swarm hosts --json

Environment:
  SWARM_HOME   master home, when --home is not given (default ~/.swarm)
  SWARM_DEBUG  set to 1 to print stack traces of unexpected errors

Exit codes: 0 success, 1 a host failed or an operation did, 2 usage or configuration error.
Run "swarm <command> --help" for a command's options and examples.`,
    );
  for (const register of COMMANDS) register(program, ctx, exit);
  return program;
}
