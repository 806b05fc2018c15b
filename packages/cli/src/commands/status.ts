import { Option } from 'commander';
import { createUpdaterClient } from '@swarm/updater-client';
import { hasCode, swarmError } from '@swarm/errors';
import { openHome, targetOf } from '@swarm/master';
import { parseCount } from '../options/rollout-options.js';
import { formatTable } from '../output/table.js';
import type { RegisterCommand } from '../program.js';

/** One host's line of `swarm status --json` (wiki/reference/cli.md). */
interface HostStatus {
  host: string;
  reachable: boolean;
  version: string | null;
  busy: boolean | null;
  active: unknown;
  prev: unknown;
  staged: unknown;
  agent: { running: boolean; healthy: boolean } | null;
  error: { code: string; message: string } | null;
}

/**
 * `swarm status`: every host's `/health`, concurrently, each under one deadline of `--timeout`
 * ms for the whole call — connect, TLS handshake, request and answer. The client's own
 * timeouts are per phase (connect, then silence between chunks): alone they let a host that
 * is slow at each step, or that trickles its answer, hold the command for a multiple of
 * `--timeout` or forever. With the deadline, the command ends about `--timeout` after it
 * starts asking, whatever the fleet does (test/reliability/status-200.test.ts).
 */
export const registerStatus: RegisterCommand = (program, ctx) => {
  program
    .command('status')
    .summary("ask every host's /health concurrently: reachability, versions, agent health")
    .description(
      "Ask every enrolled host's updater GET /health at once (over pinned mutual TLS, short timeout) and print\nreachability, the updater's version, whether it is busy, the active, previous and staged releases and the agent's health.",
    )
    .addOption(
      new Option('--timeout <ms>', 'per-host budget for the whole call; past it the host is reported unreachable')
        .argParser(parseCount('--timeout', 1))
        .default(5000),
    )
    .option('--json', 'print an array of host states as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ swarm status
  $ swarm status --json | jq -r '.[] | select(.reachable | not) | .host'`,
    )
    .action(async (opts: { timeout: number; json: boolean }, cmd) => {
      const home = await openHome(ctx.home(cmd));
      let rows: HostStatus[];
      const client = createUpdaterClient(home.master, {
        connectTimeoutMs: opts.timeout,
        statusTimeoutMs: opts.timeout,
      });
      try {
        rows = await Promise.all(
          home.registry.listHosts().map(async (host): Promise<HostStatus> => {
            const deadline = AbortSignal.timeout(opts.timeout);
            try {
              const h = await client.health(targetOf(host), { timeoutMs: opts.timeout, signal: deadline });
              return {
                host: host.name,
                reachable: true,
                version: h.version,
                busy: h.busy,
                active: h.active,
                prev: h.prev,
                staged: h.staged,
                agent: { running: h.agent.running, healthy: h.agent.healthy },
                error: null,
              };
            } catch (err) {
              // The client reports an aborted call as interrupted; here the abort is the deadline.
              const e =
                deadline.aborted && hasCode(err, 'SWARM_ERR_ROLLOUT_INTERRUPTED')
                  ? swarmError(
                      'SWARM_ERR_CLIENT_TIMEOUT',
                      `host ${host.name} (${host.address}:${host.updaterPort}) did not answer GET /health within ${opts.timeout} ms`,
                    )
                  : (err as { code?: string; message?: string });
              return {
                host: host.name,
                reachable: false,
                version: null,
                busy: null,
                active: null,
                prev: null,
                staged: null,
                agent: null,
                error: { code: e.code ?? 'SWARM_ERR_CLIENT_UNREACHABLE', message: e.message ?? String(err) },
              };
            }
          }),
        );
      } finally {
        await client.close();
        home.close();
      }
      if (opts.json) {
        ctx.printJson(rows);
        return;
      }
      const id = (r: unknown) => (r && typeof r === 'object' && 'id' in r ? String((r as { id: unknown }).id) : '-');
      ctx.print(
        formatTable(
          ['HOST', 'REACHABLE', 'UPDATER', 'BUSY', 'ACTIVE', 'PREV', 'STAGED', 'AGENT', 'ERROR'],
          rows.map((r) => [
            r.host,
            r.reachable ? 'yes' : 'no',
            r.version ?? '-',
            r.busy === null ? '-' : r.busy ? 'yes' : 'no',
            id(r.active),
            id(r.prev),
            id(r.staged),
            r.agent ? (r.agent.running ? (r.agent.healthy ? 'healthy' : 'unhealthy') : 'stopped') : '-',
            r.error ? `${r.error.code}: ${r.error.message}` : '',
          ]),
        ),
      );
    });
};
