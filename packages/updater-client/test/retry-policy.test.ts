import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY, RETRYABLE_STATUSES, parseRetryAfter, retryDelay } from '../src/retry-policy.js';

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('1'), 1000);
    assert.equal(parseRetryAfter(' 30 '), 30_000);
    assert.equal(parseRetryAfter(['2', '9']), 2000);
  });
  it('reads an HTTP-date relative to now, never negative', () => {
    const now = Date.parse('Sun, 22 Nov 2026 10:00:00 GMT');
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now), 0);
  });
  it('ignores what it cannot read', () => {
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter('-1'), undefined);
    assert.equal(parseRetryAfter('1.5'), undefined);
  });
});

describe('retryDelay', () => {
  const options = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('backs off exponentially with jitter between half and all of the step', () => {
    assert.equal(
      retryDelay(1, undefined, options, () => 0),
      50,
    );
    assert.equal(
      retryDelay(1, undefined, options, () => 1),
      100,
    );
    assert.equal(
      retryDelay(2, undefined, options, () => 0),
      100,
    );
    assert.equal(
      retryDelay(3, undefined, options, () => 1),
      400,
    );
  });
  it('never exceeds maxDelayMs of its own accord', () => {
    const many = { attempts: 50, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      retryDelay(40, undefined, many, () => 1),
      1000,
    );
  });
  it('treats Retry-After as a floor', () => {
    assert.equal(
      retryDelay(1, 1000, options, () => 0.5),
      1000,
    );
    assert.equal(
      retryDelay(3, 0, options, () => 1),
      400,
    );
  });
  it('gives up when attempts are spent or Retry-After is beyond maxDelayMs', () => {
    assert.equal(retryDelay(4, undefined, options), null);
    assert.equal(retryDelay(1, 1001, options), null);
    assert.equal(retryDelay(1, undefined, { ...options, attempts: 1 }), null);
  });
  it('retries only statuses that promise nothing was applied', () => {
    assert.deepEqual([...RETRYABLE_STATUSES].sort(), [423, 503]);
    assert.ok(DEFAULT_RETRY.attempts > 1);
  });
});
