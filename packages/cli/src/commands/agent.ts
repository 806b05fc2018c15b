import { AgentError, AGENT_USAGE, runAgent } from '@swarm/agent';
import type { RegisterCommand } from '../program.js';

/** `swarm agent`: the reference agent (packages/agent), for demos and tests. */
export const registerAgent: RegisterCommand = (program, ctx, exit) => {
  program
    .command('agent')
    .summary('run the reference agent (the demo application)')
    .description(
      'Run the reference agent: an HTTPS service with mutual TLS answering GET /health and GET /version,\n' +
        'configured by the SWARM_* variables the updater sets (wiki/reference/layouts.md#release-tarball). Its flags are passed through:\n\n' +
        AGENT_USAGE,
    )
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', 'agent flags (see above)')
    .action(async (args: string[]) => {
      try {
        await runAgent(args, ctx.env as NodeJS.ProcessEnv);
      } catch (err) {
        // The agent has already logged its error (JSON on stderr); only the exit code is left.
        if (err instanceof AgentError) exit.code = err.exitCode;
        else throw err;
      }
    });
};
