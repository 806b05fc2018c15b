import type { Command } from 'commander';
import { resolveHome } from '@swarm/master';

/** Where a command writes: `process.stdout`/`process.stderr`, or a test's buffers. */
export interface TextOutput {
  write(chunk: string): unknown;
  /** True on a terminal: progress bars and live status only then, plain lines otherwise. */
  readonly isTTY?: boolean;
}

/** The process, as an argument: what {@link run} needs from the outside world. */
export interface RunOptions {
  /** Arguments after the program name (`process.argv.slice(2)`). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Data: tables and JSON. Nothing else is ever written here. */
  readonly stdout: TextOutput;
  /** Logs, progress, notes and errors. */
  readonly stderr: TextOutput;
}

/** What every command gets besides its options: the process and a few output helpers. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** The master's own version (`swarm --version`). */
  readonly version: string;
  /** The master home for `command`: global `--home`, else `SWARM_HOME`, else `~/.swarm`. */
  home(command: Command): string;
  /** Write a line of data to stdout. */
  print(line: string): void;
  /** Write `value` as the one JSON document of stdout (for `--json`). */
  printJson(value: unknown): void;
  /** Write a note for the operator to stderr: hints and next steps, never data. */
  note(line: string): void;
}

export function createContext(options: RunOptions, version: string): CliContext {
  const { env, stdout, stderr } = options;
  return {
    env,
    stdout,
    stderr,
    version,
    home: (command) => resolveHome({ home: (command.optsWithGlobals() as { home?: string }).home, env }),
    print: (line) => void stdout.write(`${line}\n`),
    printJson: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (line) => void stderr.write(`${line}\n`),
  };
}
