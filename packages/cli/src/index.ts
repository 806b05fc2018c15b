// Running the CLI: the process is an argument, so tests run the real CLI in-process.
export { run } from './run.js';
export type { RunOptions, TextOutput, CliContext } from './context.js';

// Adding commands: the registration signature and the command table.
export {
  buildProgram,
  requestedCommand,
  COMMANDS,
  type CommandEntry,
  type RegisterCommand,
  type ExitStatus,
} from './program.js';

// Output conventions shared by commands.
export { type ErrorReport } from './output/error-message.js';

export { type HostJson } from './output/host-json.js';
