import { AgentError } from './agent-error.js';
import { AGENT_USAGE, parseAgentArgs, type AgentArgs } from './args.js';
import { createAgentLogger, logLevelFromEnv, type AgentLogger } from './log.js';
import { startAgent, type RunningAgent } from './server.js';

/**
 * The agent as a process: parse `argv`, start, and resolve once a SIGTERM or SIGINT has
 * stopped it gracefully (requests in flight finish, bounded by --shutdown-timeout-ms). It
 * never exits the process itself — the bin does (`main.ts`, `swarm agent`): resolve means
 * exit 0; a rejection carries `exitCode` (2 usage/configuration, 1 otherwise) and has
 * already been logged as a JSON line on stderr.
 */
export async function runAgent(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createAgentLogger({ level: logLevelFromEnv(env), bindings: env.SWARM_HOST ? { host: env.SWARM_HOST } : {} });
  // Listen for signals before anything else: until a listener exists, SIGTERM kills Node
  // outright (exit by signal, not 0), and the updater may stop us while we still start.
  const signals = watchStopSignals();
  try {
    const args = parseAgentArgs(argv);
    if (args.help) {
      process.stdout.write(AGENT_USAGE);
      return;
    }
    if (args.failStart) {
      throw new AgentError('SWARM_ERR_AGENT_FAULT_INJECTED', 'not starting: --fail-start was given (a test knob)');
    }
    const agent = await startAgent({
      env,
      listen: args.listen,
      flags: args.flags,
      shutdownTimeoutMs: args.shutdownTimeoutMs,
      logger,
    });
    await untilStopped(agent, args, logger, signals);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    logger.error(e.message, {
      event: 'fatal',
      code: typeof e.code === 'string' ? e.code : null,
      ...(err instanceof AgentError ? {} : { stack: e.stack }),
    });
    throw err;
  } finally {
    signals.dispose();
  }
}

/** SIGTERM/SIGINT, recorded from the moment of the call and replayed to a late subscriber. */
interface StopSignals {
  /** `listener` is called for every signal, first with those already received. */
  subscribe(listener: (signal: NodeJS.Signals) => void): void;
  dispose(): void;
}

function watchStopSignals(): StopSignals {
  const received: NodeJS.Signals[] = [];
  let listener: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    received.push(signal);
    listener?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    subscribe(l) {
      listener = l;
      for (const signal of received) l(signal);
    },
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** Wait for a stop signal (graceful, resolves) or the --exit-after-ms knob (rejects). */
function untilStopped(agent: RunningAgent, args: AgentArgs, logger: AgentLogger, signals: StopSignals): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    let crashTimer: NodeJS.Timeout | undefined;
    if (args.exitAfterMs !== undefined) {
      const ms = args.exitAfterMs;
      crashTimer = setTimeout(() => {
        stopping = true;
        // A simulated crash: no drain, the connections are cut.
        void agent
          .close({ timeoutMs: 0 })
          .finally(() =>
            reject(
              new AgentError('SWARM_ERR_AGENT_FAULT_INJECTED', `exiting ${ms} ms after start: --exit-after-ms was given (a test knob)`),
            ),
          );
      }, ms);
    }
    signals.subscribe((signal) => {
      if (stopping) {
        // A second signal means "now": cut the requests still in flight.
        logger.warn(`${signal} again: cutting requests in flight`, { event: 'stopping', signal, force: true });
        void agent.close({ timeoutMs: 0 });
        return;
      }
      stopping = true;
      clearTimeout(crashTimer);
      logger.info(`${signal}: stopping`, { event: 'stopping', signal });
      agent.close().then(() => {
        logger.info('stopped', { event: 'stopped' });
        resolve();
      }, reject);
    });
  });
}
