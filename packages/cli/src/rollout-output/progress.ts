import cliProgress from 'cli-progress';
import type { RolloutEvent } from '@swarm/master';
import type { TextOutput } from '../context.js';

/** Renders rollout events on stderr: live bars on a terminal, plain lines otherwise. */
export interface ProgressView {
  onEvent(event: RolloutEvent): void;
  stop(): void;
}

/**
 * On a TTY, one live line per host (phase, bytes sent, elapsed) with cli-progress; anywhere
 * else (CI logs, pipes, tests) one plain line per event, so the log reads top to bottom.
 */
export function createProgressView(stderr: TextOutput, hosts: readonly string[]): ProgressView {
  const tty = stderr.isTTY === true && typeof (stderr as { cursorTo?: unknown }).cursorTo === 'function';
  return tty ? barsView(stderr as NodeJS.WriteStream, hosts) : linesView(stderr);
}

function linesView(stderr: TextOutput): ProgressView {
  const started = Date.now();
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  return {
    onEvent(event) {
      if (event.type === 'phase') stderr.write(`[${at()}] ${event.host}: ${event.phase}\n`);
      if (event.type === 'done') {
        const r = event.result;
        stderr.write(`[${at()}] ${r.host}: ${r.outcome}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}\n`);
      }
      // Byte counts are for the live view only: one line per chunk would drown the log.
    },
    stop() {},
  };
}

function barsView(stderr: NodeJS.WriteStream, hosts: readonly string[]): ProgressView {
  const width = Math.max(4, ...hosts.map((h) => h.length));
  const multi = new cliProgress.MultiBar(
    {
      stream: stderr,
      format: '{host} {bar} {phase} {sent} {elapsed}s',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 20,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = new Map<string, number>();
  const bars = new Map(
    hosts.map((host) => [
      host,
      multi.create(1, 0, { host: host.padEnd(width), phase: 'queued', sent: '', elapsed: '0.0' }),
    ]),
  );
  const elapsed = (host: string) => ((Date.now() - (started.get(host) ?? Date.now())) / 1000).toFixed(1);
  return {
    onEvent(event) {
      const host = event.type === 'done' ? event.result.host : event.host;
      const bar = bars.get(host);
      if (!bar) return;
      if (!started.has(host)) started.set(host, Date.now());
      if (event.type === 'phase') bar.update({ phase: event.phase, elapsed: elapsed(host) });
      if (event.type === 'progress') {
        bar.setTotal(Math.max(1, event.totalBytes));
        bar.update(event.bytesSent, { sent: `${(event.bytesSent / 1e6).toFixed(1)} MB`, elapsed: elapsed(host) });
      }
      if (event.type === 'done') bar.update(bar.getTotal(), { phase: event.result.outcome, elapsed: elapsed(host) });
    },
    stop: () => multi.stop(),
  };
}
