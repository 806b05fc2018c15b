import type { HostResult, RolloutResult } from '@swarm/master';
import { formatTable } from '../output/table.js';

/** The end-of-rollout table: host, outcome, release, duration, message. */
export function resultsTable(result: RolloutResult): string {
  return formatTable(
    ['HOST', 'OUTCOME', 'RELEASE', 'DURATION', 'MESSAGE'],
    result.results.map((r: HostResult) => [
      r.host,
      r.outcome,
      r.release?.id ?? '-',
      `${(r.durationMs / 1000).toFixed(1)}s`,
      r.error ? `${r.error.code}: ${r.error.message}` : '',
    ]),
  );
}
