import { CommanderError } from 'commander';
import { catalogue, isSwarmError } from '@swarm/errors';

/** How an error ends a command: what to print on stderr and the exit code. */
export interface ErrorReport {
  readonly text: string;
  readonly exitCode: number;
}

/**
 * Turn anything a command threw into the one error format of the CLI:
 *
 *     error SWARM_ERR_HOST_EXISTS: host "web-1" is already enrolled
 *     hint: Pick another name, or `swarm decommission --host NAME` first to re-enroll it.
 *
 * Exit codes (wiki/reference/cli.md): the catalogue's for swarm errors (2 usage/configuration, 1
 * otherwise); 2 for commander's usage errors (SWARM_ERR_USAGE_INVALID); 1 for anything
 * unexpected, which is a bug — `SWARM_DEBUG=1` adds the stack trace.
 */
export function errorReport(err: unknown, options: { debug?: boolean } = {}): ErrorReport {
  if (err instanceof CommanderError) {
    const spec = catalogue.SWARM_ERR_USAGE_INVALID;
    const message = err.message.replace(/^error: /, '');
    return { text: `error SWARM_ERR_USAGE_INVALID: ${message}\nhint: ${spec.remedy}\n`, exitCode: spec.exit };
  }
  if (isSwarmError(err)) {
    let text = `error ${err.code}: ${err.message}\nhint: ${err.remedy}\n`;
    if (options.debug) text += debugTrace(err);
    return { text, exitCode: err.exitCode };
  }
  const message = err instanceof Error ? err.message : String(err);
  let text = `error: ${message}\nhint: this is a bug in swarm, not something you did; run again with SWARM_DEBUG=1 and report the stack trace.\n`;
  if (options.debug) text += debugTrace(err);
  return { text, exitCode: 1 };
}

function debugTrace(err: unknown): string {
  let text = '';
  for (let e: unknown = err; e instanceof Error; e = e.cause) text += `${e.stack ?? e.message}\n`;
  return text;
}
