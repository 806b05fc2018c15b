import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import type { CheckResult, HealthCheck } from '../../src/probe/check-result.js';
import { probeAgent } from '../../src/probe/probe-agent.js';

/**
 * The probe's pacing, with a check that is a plain function of time (the agent's side of a
 * real probe is covered end to end in lifecycle.test.ts): when it asks again after a failure,
 * and that it closes the healthy window as soon as the window has lasted `healthyForMs`.
 */
function scripted(healthyFrom: (t: number) => boolean) {
  const start = performance.now();
  const at: number[] = [];
  const check: HealthCheck = async (): Promise<CheckResult> => {
    const t = performance.now() - start;
    at.push(t);
    return healthyFrom(t) ? { ok: true, detail: 'healthy' } : { ok: false, detail: 'connection refused' };
  };
  return { check, at };
}

const base = { deadlineMs: 10_000, exitOf: () => null, signal: new AbortController().signal };

describe('probeAgent pacing', () => {
  it('asks a starting agent again every 20 ms, then every intervalMs once it has been failing for 2 s', async () => {
    const { check, at } = scripted((t) => t >= 2_400);
    const outcome = await probeAgent({ ...base, check, healthyForMs: 0, intervalMs: 200 });
    assert.equal(outcome.ok, true);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    const early = gaps.filter((_, i) => at[i]! < 1_800);
    const late = gaps.filter((_, i) => at[i]! > 2_050);
    // At least the pause (a timer never fires early by more than a millisecond); well under
    // intervalMs as a rule (the median: a loaded machine may delay a timer now and then).
    const median = [...early].sort((a, b) => a - b)[Math.floor(early.length / 2)]!;
    assert.ok(
      early.length >= 10 && early.every((g) => g >= 19) && median < 100,
      `early pauses: ${early.map(Math.round).join(', ')}`,
    );
    assert.ok(late.length >= 1 && late.every((g) => g >= 198), `pauses after 2 s: ${late.map(Math.round).join(', ')}`);
  });

  it('passes once healthy for healthyForMs, without waiting out a whole extra interval', async () => {
    const { check, at } = scripted(() => true);
    const t0 = performance.now();
    const outcome = await probeAgent({ ...base, check, healthyForMs: 150, intervalMs: 1_000 });
    const took = performance.now() - t0;
    assert.equal(outcome.ok, true);
    assert.match(outcome.detail, /^healthy for \d+ ms/);
    // Two checks: the one opening the window and the one closing it 150 ms later (not 1 s).
    assert.equal(at.length, 2);
    assert.ok(at[1]! - at[0]! >= 149, `window closed after ${at[1]! - at[0]!} ms`);
    assert.ok(took < 900, `took ${took} ms`);
  });

  it('still checks every intervalMs inside a long window, and a failure restarts it', async () => {
    const start = performance.now();
    const at: number[] = [];
    const check: HealthCheck = async () => {
      at.push(performance.now() - start);
      return at.length === 3 ? { ok: false, detail: '503' } : { ok: true, detail: 'healthy' };
    };
    const outcome = await probeAgent({ ...base, check, healthyForMs: 100, intervalMs: 40 });
    const passedAt = performance.now() - start;
    assert.equal(outcome.ok, true);
    // The window opened again by the first check after the failing one: it passed only once
    // that check was 100 ms old, with checks at most intervalMs (+ timer lateness) apart.
    assert.ok(at.length >= 5, `${at.length} checks`);
    assert.ok(passedAt - at[3]! >= 99, `passed ${passedAt - at[3]!} ms after the window reopened`);
  });

  it('fails at the deadline with the last failure', async () => {
    const { check } = scripted(() => false);
    const outcome = await probeAgent({ ...base, check, healthyForMs: 0, intervalMs: 50, deadlineMs: 300 });
    assert.equal(outcome.ok, false);
    assert.match(outcome.detail, /within 300 ms: connection refused/);
  });
});
