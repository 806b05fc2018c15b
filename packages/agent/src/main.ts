// The agent's standalone entry: `node dist/main.js`, or `node agent.mjs` once bundled into a
// release (scripts/bundle-agent.mjs). Like the CLI's bin, it is the only place that exits.
import { runAgent } from './run-agent.js';

runAgent(process.argv.slice(2), process.env).then(
  () => process.exit(0),
  (err: unknown) => {
    // runAgent has logged the error as a JSON line already; only the exit code is left.
    process.exit((err as { exitCode?: unknown }).exitCode === 2 ? 2 : 1);
  },
);
