import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schedule } from '../../src/rollout/schedule.js';

/** Runs `schedule` over hosts whose turn fails when its name is in `failing`; records the order. */
async function run(
  hosts: string[],
  options: { canary: number; concurrency: number; maxFailures: number; signal?: AbortSignal },
  failing: Set<string> = new Set(),
  onStart?: (host: string) => void,
) {
  const started: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const results = await schedule(hosts, options, async (host) => {
    started.push(host);
    onStart?.(host);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return { host, failed: failing.has(host) };
  });
  return { started, maxInFlight, results };
}

const hosts = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];

describe('rollout schedule', () => {
  it('runs every host when nothing fails, never more than `concurrency` at once', async () => {
    const { started, maxInFlight, results } = await run(hosts, { canary: 1, concurrency: 2, maxFailures: 0 });
    assert.deepEqual([...started].sort(), hosts);
    assert.equal(maxInFlight, 2);
    assert.ok(results.every((r) => !('notStarted' in r)));
  });

  it('runs the canary hosts before any other host starts', async () => {
    const events: string[] = [];
    await schedule(hosts, { canary: 2, concurrency: 4, maxFailures: 0 }, async (host) => {
      events.push(`start ${host}`);
      await new Promise((r) => setTimeout(r, host === 'h1' ? 20 : 2));
      events.push(`end ${host}`);
      return { failed: false };
    });
    const lastCanaryEnd = Math.max(events.indexOf('end h1'), events.indexOf('end h2'));
    const firstOtherStart = Math.min(...['h3', 'h4', 'h5', 'h6'].map((h) => events.indexOf(`start ${h}`)));
    assert.ok(lastCanaryEnd < firstOtherStart, events.join(', '));
  });

  it('a failing canary with max-failures 0 skips everyone else', async () => {
    const { started, results } = await run(hosts, { canary: 1, concurrency: 4, maxFailures: 0 }, new Set(['h1']));
    assert.deepEqual(started, ['h1']);
    assert.deepEqual(
      results.slice(1).map((r) => ('notStarted' in r ? r.notStarted : 'ran')),
      ['budget', 'budget', 'budget', 'budget', 'budget'],
    );
  });

  it('counts the budget over the whole rollout: canary 0, concurrency 1, max-failures 1 attempts exactly two failing hosts', async () => {
    const { started } = await run(hosts, { canary: 0, concurrency: 1, maxFailures: 1 }, new Set(hosts));
    assert.deepEqual(started, ['h1', 'h2']);
  });

  it('stops starting hosts when the signal fires, and marks the rest interrupted', async () => {
    const controller = new AbortController();
    const { started, results } = await run(
      hosts,
      { canary: 0, concurrency: 1, maxFailures: 0, signal: controller.signal },
      new Set(),
      (h) => {
        if (h === 'h2') controller.abort();
      },
    );
    assert.deepEqual(started, ['h1', 'h2']);
    assert.deepEqual(
      results.map((r) => ('notStarted' in r ? r.notStarted : 'ran')),
      ['ran', 'ran', 'interrupted', 'interrupted', 'interrupted', 'interrupted'],
    );
  });

  it('returns results in host order whatever the completion order', async () => {
    const results = await schedule(['a', 'b', 'c'], { canary: 0, concurrency: 3, maxFailures: 0 }, async (host) => {
      await new Promise((r) => setTimeout(r, host === 'a' ? 30 : 1));
      return { host, failed: false };
    });
    assert.deepEqual(
      results.map((r) => ('host' in r ? r.host : null)),
      ['a', 'b', 'c'],
    );
  });
});
