import { CommanderError } from 'commander';
import { createContext, type RunOptions } from './context.js';
import { errorReport } from './output/error-message.js';
import { buildProgram, type ExitStatus } from './program.js';
import { cliVersion } from './version.js';

/** commander's "exits" that are not failures: help and version were printed. */
const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Run the `swarm` CLI with `argv` and the given streams; resolves to the exit code. Never
 * exits the process and never throws: the bin sets `process.exitCode` from the result.
 */
export async function run(options: RunOptions): Promise<number> {
  const ctx = createContext(options, cliVersion());
  const exit: ExitStatus = { code: 0 };
  try {
    const program = await buildProgram(ctx, exit, options.argv);
    await program.parseAsync([...options.argv], { from: 'user' });
    return exit.code;
  } catch (err) {
    if (
      err instanceof CommanderError &&
      (CLEAN_EXITS.has(err.code) || (err.code === 'commander.help' && err.exitCode === 0))
    ) {
      return 0;
    }
    // `swarm` alone prints the help to stderr; that is a usage error, without an error line.
    if (err instanceof CommanderError && err.code === 'commander.help') return 2;
    const report = errorReport(err, { debug: Boolean(options.env.SWARM_DEBUG) && options.env.SWARM_DEBUG !== '0' });
    options.stderr.write(report.text);
    return report.exitCode;
  }
}
