import { Option, type Command } from 'commander';
import { swarmError } from '@swarm/errors';
import {
  DEFAULT_GATE_RETRY_MS,
  DEFAULT_GATE_TIMEOUT_MS,
  parseWindow,
  type HostGates,
  type MaintenanceWindow,
} from '@swarm/master';
import type { CliContext } from '../context.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse a duration flag: `500ms`, `30s`, `10m`, `1h`, `1d`, or a bare number of seconds. */
export function parseDuration(name: string) {
  return (value: string): number => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
    const ms = m ? Number(m[1]) * UNITS[m[2] ?? 's']! : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      throw swarmError(
        'SWARM_ERR_USAGE_INVALID',
        `${name} must be a positive duration such as 500ms, 30s, 10m, 1h or 1d, not "${value}"`,
      );
    }
    return ms;
  };
}

/** What the gate options give. */
export interface GateFlags {
  window?: MaintenanceWindow[];
  beforeHost?: string;
  afterHost?: string;
  gateRetry: number;
  gateTimeout: number;
}

/** `--window`, `--before-host`, `--after-host`, `--gate-retry`, `--gate-timeout`, shared by update and activate. */
export function addGateOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--window <spec>',
        'start hosts only inside this maintenance window: DAYS HH:MM-HH:MM [TZ], e.g. "mon-fri 01:00-05:00 Europe/Berlin" (repeatable)',
      ).argParser((value: string, previous: MaintenanceWindow[] | undefined) => [
        ...(previous ?? []),
        parseWindow(value),
      ]),
    )
    .option(
      '--before-host <cmd>',
      'run on the master (sh -c) before each host is touched: exit 0 go, 75 not now (asked again), else the host fails',
    )
    .option('--after-host <cmd>', 'run on the master (sh -c) after each host committed; a failure fails the host')
    .addOption(
      new Option('--gate-retry <duration>', 'wait before asking a "not now" gate again')
        .argParser(parseDuration('--gate-retry'))
        .default(DEFAULT_GATE_RETRY_MS, '30s'),
    )
    .addOption(
      new Option('--gate-timeout <duration>', 'skip a host whose gate still says "not now" after this long')
        .argParser(parseDuration('--gate-timeout'))
        .default(DEFAULT_GATE_TIMEOUT_MS, '10m'),
    );
}

/** The windows, `gates` and notes of a rollout's options, their output on stderr. */
export function withGates(
  opts: GateFlags,
  ctx: CliContext,
): { gates?: HostGates; windows?: MaintenanceWindow[]; notes: CliContext['stderr'] } {
  const windows = opts.window ? { windows: opts.window } : {};
  if (opts.beforeHost === undefined && opts.afterHost === undefined) return { ...windows, notes: ctx.stderr };
  const gates: HostGates = {
    ...(opts.beforeHost !== undefined ? { beforeHost: opts.beforeHost } : {}),
    ...(opts.afterHost !== undefined ? { afterHost: opts.afterHost } : {}),
    retryMs: opts.gateRetry,
    timeoutMs: opts.gateTimeout,
    output: ctx.stderr,
  };
  return { gates, ...windows, notes: ctx.stderr };
}
