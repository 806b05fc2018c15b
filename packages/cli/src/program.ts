/**
 * The `swarm` program and its command table.
 *
 * Adding a command (pack, update, status, releases, rollback, history, updater, agent…):
 *
 * 1. Create `src/commands/<verb>.ts` exporting one `register<Verb>: RegisterCommand`. It
 *    calls `program.command('<verb>')` and sets, in this order: `.summary()` (one line,
 *    for `swarm --help`), `.description()`, its options (`--json` wherever it prints
 *    results), `.addHelpText('after', ...)` with an `Examples:` block, and `.action()`.
 * 2. Add it to {@link COMMANDS} below, where it belongs in `swarm --help`, with a loader
 *    that imports its module: a run loads only the command it runs (see {@link buildProgram}).
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
 *   (wiki/reference/cli.md), instead of throwing.
 * - The master home is `ctx.home(command)` (global `--home`, then `SWARM_HOME`, then ~/.swarm).
 */
import { Command } from 'commander';
import type { CliContext } from './context.js';

/** Exit status a command may raise without throwing (e.g. 1 when some host failed). */
export interface ExitStatus {
  code: number;
}

/** The uniform signature of a command module: add one command to `program`. */
export type RegisterCommand = (program: Command, ctx: CliContext, exit: ExitStatus) => void;

/** A command of the table: its name and how to load the module that registers it. */
export interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<RegisterCommand>;
}

/** Every command, in `swarm --help` order. */
export const COMMANDS: readonly CommandEntry[] = [
  // master side
  { name: 'init', load: async () => (await import('./commands/init.js')).registerInit },
  { name: 'enroll', load: async () => (await import('./commands/enroll.js')).registerEnroll },
  { name: 'hosts', load: async () => (await import('./commands/hosts.js')).registerHosts },
  { name: 'status', load: async () => (await import('./commands/status.js')).registerStatus },
  { name: 'pack', load: async () => (await import('./commands/pack.js')).registerPack },
  { name: 'keygen', load: async () => (await import('./commands/keygen.js')).registerKeygen },
  { name: 'sign', load: async () => (await import('./commands/sign.js')).registerSign },
  { name: 'publish', load: async () => (await import('./commands/publish.js')).registerPublish },
  { name: 'update', load: async () => (await import('./commands/update.js')).registerUpdate },
  { name: 'activate', load: async () => (await import('./commands/activate.js')).registerActivate },
  { name: 'rollback', load: async () => (await import('./commands/rollback.js')).registerRollback },
  { name: 'releases', load: async () => (await import('./commands/releases.js')).registerReleases },
  { name: 'history', load: async () => (await import('./commands/history.js')).registerHistory },
  { name: 'decommission', load: async () => (await import('./commands/decommission.js')).registerDecommission },
  // worker side
  { name: 'updater', load: async () => (await import('./commands/updater.js')).registerUpdater },
  { name: 'agent', load: async () => (await import('./commands/agent.js')).registerAgent },
];

/**
 * The command `argv` runs, when it names one of {@link COMMANDS}; null for `--help`,
 * `--version`, `help <command>`, a typo (commander then lists or suggests from all of them).
 */
export function requestedCommand(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--home') {
      i += 1; // its value
      continue;
    }
    // `swarm --help update` prints the program's help, which lists every command.
    if (arg === '-h' || arg === '--help') return null;
    if (arg.startsWith('-')) continue;
    return COMMANDS.some((c) => c.name === arg) ? arg : null;
  }
  return null;
}

/**
 * Build a fresh program (commander keeps parse state on the instance, so one per run).
 * It never exits the process and writes only to the context's streams. Given the `argv` it
 * will parse, it loads only the command that argv runs: a command's module pulls in its
 * whole stack (fastify for `updater`, undici and SQLite for `update`…), and each `swarm`
 * start would otherwise pay for all of them. Without `argv`, or when argv names no single
 * command (help, version, a typo), every command is loaded.
 */
export async function buildProgram(ctx: CliContext, exit: ExitStatus, argv?: readonly string[]): Promise<Command> {
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
  const wanted = argv ? requestedCommand(argv) : null;
  const entries = COMMANDS.filter((c) => wanted === null || c.name === wanted);
  for (const register of await Promise.all(entries.map((c) => c.load()))) register(program, ctx, exit);
  return program;
}
