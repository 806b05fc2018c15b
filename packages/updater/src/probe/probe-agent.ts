import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseManifest } from '@swarm/bundle';
import { CHECK_TIMEOUT_MS, substitutePort, type CheckResult, type HealthCheck } from './check-result.js';
import { execCheck } from './exec-check.js';
import { httpCheck, type ProbeTls } from './http-check.js';
import { tcpCheck } from './tcp-check.js';

/** Where and how a release's health is checked. */
export interface HealthCheckContext {
  /** The release directory (cwd of an exec check). */
  readonly releaseDir: string;
  /** The environment of an exec check (the agent's). */
  readonly env: NodeJS.ProcessEnv;
  readonly agentPort: number;
  readonly tls: ProbeTls;
}

/** The single health check release.json asks for, or null when it declares none. */
export function healthCheckFor(manifest: ReleaseManifest, ctx: HealthCheckContext): HealthCheck | null {
  const health = manifest.health;
  if (!health) return null;
  if ('url' in health) return httpCheck(new URL(substitutePort(health.url, ctx.agentPort)), manifest.version, ctx.tls);
  if ('tcp' in health) {
    const address = substitutePort(health.tcp, ctx.agentPort);
    const at = address.lastIndexOf(':');
    return tcpCheck(address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(at + 1)));
  }
  return execCheck(health.exec, ctx.releaseDir, ctx.env);
}

/** The timings of a probe: the release's own, else the updater's defaults. */
export function probeTimings(
  manifest: ReleaseManifest,
  defaults: { healthyForMs: number; probeDeadlineMs: number },
): { healthyForMs: number; deadlineMs: number } {
  const health = manifest.health;
  return {
    healthyForMs: health?.healthyForMs ?? defaults.healthyForMs,
    deadlineMs: health?.deadlineMs ?? defaults.probeDeadlineMs,
  };
}

/** Options of {@link probeAgent}. */
export interface ProbeOptions {
  /** The check to repeat; null checks only that the process stays alive. */
  readonly check: HealthCheck | null;
  readonly healthyForMs: number;
  readonly deadlineMs: number;
  readonly intervalMs: number;
  /** How the agent died (e.g. `with code 1`), or null while it runs. */
  readonly exitOf: () => string | null;
  readonly signal: AbortSignal;
  /** Called after each check (the `during:probe` fault point hangs here). */
  readonly onCheck?: (checks: number, result: CheckResult) => void;
}

/** What a probe concluded. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly checks: number;
}

/**
 * The pause after a failed check while the agent has just been started, and for how long
 * that applies. A starting agent is asked every few milliseconds, as a restart floor would:
 * a refused connection costs next to nothing, and every millisecond between "the agent
 * listens" and "the probe notices" is time the host runs no agent at all. The pause is never
 * shorter than the failed check took (an exec check, a handshake with an agent answering
 * 503). Past the window (an agent that is slow to come up, or unhealthy), checks come every
 * `intervalMs`.
 */
const START_RETRY_MS = 20;
const START_WINDOW_MS = 2_000;

/**
 * Probe a freshly started agent (wiki/reference/layouts.md#release-tarball): it passes only once the check has succeeded
 * continuously for `healthyForMs` — every check in that window healthy, the first one
 * starting the window — before `deadlineMs`, with the agent process alive throughout. One
 * failed check restarts the window; the agent's death fails the probe at once. Once healthy,
 * checks come every `intervalMs`, the last one timed to close the window as it ends. Time is
 * monotonic (performance.now), immune to wall-clock jumps.
 */
export async function probeAgent(options: ProbeOptions): Promise<ProbeOutcome> {
  const { check, healthyForMs, deadlineMs, intervalMs, exitOf, signal } = options;
  const start = performance.now();
  let healthySince: number | null = null;
  let last = 'no health check has completed yet';
  let checks = 0;
  let failedBefore = false;
  const fail = (detail: string): ProbeOutcome => ({ ok: false, detail, checks });
  for (;;) {
    signal.throwIfAborted();
    const exited = exitOf();
    if (exited) return fail(`the agent exited ${exited}${checks > 0 ? ` (last check: ${last})` : ''}`);
    const remaining = deadlineMs - (performance.now() - start);
    if (remaining <= 0) return fail(`not healthy for ${healthyForMs} ms within ${deadlineMs} ms: ${last}`);
    const began = performance.now();
    const timeoutMs = Math.max(1, Math.min(CHECK_TIMEOUT_MS, remaining));
    const result: CheckResult = check
      ? await check(timeoutMs, signal)
      : { ok: true, detail: 'the agent process is running (release.json declares no health check)' };
    checks += 1;
    options.onCheck?.(checks, result);
    const exitedNow = exitOf();
    if (exitedNow) return fail(`the agent exited ${exitedNow} (last check: ${result.detail})`);
    let pauseMs: number;
    if (result.ok) {
      healthySince ??= began;
      last = result.detail;
      const healthyFor = performance.now() - healthySince;
      if (healthyFor >= healthyForMs && performance.now() - start <= deadlineMs) {
        return { ok: true, detail: `healthy for ${Math.round(healthyFor)} ms: ${result.detail}`, checks };
      }
      // +1: a timer may fire up to a millisecond early, which would cost one more check.
      pauseMs = Math.min(intervalMs, Math.ceil(healthyForMs - healthyFor) + 1);
    } else {
      healthySince = null;
      // A last check cut short by the deadline says less than the failure before it.
      const cutShort = timeoutMs < CHECK_TIMEOUT_MS && performance.now() - start >= deadlineMs;
      if (!(cutShort && failedBefore)) last = result.detail;
      failedBefore = true;
      // Never more often than a check lasts: an exec check spawns a process, an https check
      // of an agent that answers 503 costs a handshake — at most half the time goes to checks.
      const fast = Math.max(START_RETRY_MS, performance.now() - began);
      pauseMs = performance.now() - start < START_WINDOW_MS ? Math.min(fast, intervalMs) : intervalMs;
    }
    await sleep(pauseMs, undefined, { signal });
  }
}
