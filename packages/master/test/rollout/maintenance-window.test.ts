import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, nextOpening, parseWindow } from '../../src/rollout/maintenance-window.js';

const at = (iso: string) => new Date(iso);

describe('maintenance windows', () => {
  it('parses days, ranges, lists and times; UTC by default', () => {
    const w = parseWindow('mon-fri 01:00-05:00');
    assert.deepEqual([...w.days].sort(), [1, 2, 3, 4, 5]);
    assert.equal(w.opens, 60);
    assert.equal(w.closes, 300);
    assert.equal(w.timeZone, 'UTC');
    assert.deepEqual([...parseWindow('sat,sun 00:00-24:00').days].sort(), [0, 6]);
    assert.deepEqual([...parseWindow('fri-mon 22:00-02:00').days].sort(), [0, 1, 5, 6], 'a range wraps the week');
    assert.deepEqual([...parseWindow('mon,wed-fri 01:00-02:00 Europe/Berlin').days].sort(), [1, 3, 4, 5]);
    assert.equal(parseWindow('* 00:00-01:00').days.size, 7);
  });

  for (const [spec, problem] of [
    ['mon-fri', /1 field/],
    ['mon-fri 01:00-05:00 Europe/Berlin extra', /4 field/],
    ['funday 01:00-05:00', /"funday" is not a day/],
    ['mon-fri-sat 01:00-05:00', /not a day or a range/],
    ['mon 1:00-05:00', /"1:00" is not a time of day/],
    ['mon 01:60-05:00', /"01:60" is not a time of day/],
    ['mon 25:00-05:00', /"25:00" is not a time of day/],
    ['mon 01:00', /not a range of times/],
    ['mon 03:00-03:00', /opens and closes at the same time/],
    ['mon 01:00-05:00 Mars/Olympus', /"Mars\/Olympus" is not an IANA time zone/],
  ] as const) {
    it(`refuses "${spec}" with the exact problem (usage error)`, () => {
      assert.throws(
        () => parseWindow(spec),
        (err: Error & { code?: string }) => err.code === 'SWARM_ERR_USAGE_INVALID' && problem.test(err.message),
      );
    });
  }

  it('is inside only on its days and hours, in its time zone', () => {
    const w = parseWindow('mon-fri 01:00-05:00 Europe/Berlin');
    // 2026-12-07 is a Monday; Berlin is UTC+1 in December.
    assert.equal(isInside(w, at('2026-12-07T00:30:00Z')), true, '01:30 in Berlin');
    assert.equal(isInside(w, at('2026-12-07T04:00:00Z')), false, '05:00 in Berlin: closed');
    assert.equal(isInside(w, at('2026-12-06T00:30:00Z')), false, 'a Sunday');
    // Summer: UTC+2.
    assert.equal(isInside(w, at('2026-07-06T23:30:00Z')), true, 'Tuesday 01:30 in Berlin');
  });

  it('a window across midnight belongs to the day it opens', () => {
    const w = parseWindow('fri 22:00-02:00');
    assert.equal(isInside(w, at('2026-12-11T23:00:00Z')), true, 'Friday 23:00');
    assert.equal(isInside(w, at('2026-12-12T01:59:00Z')), true, 'Saturday 01:59');
    assert.equal(isInside(w, at('2026-12-12T02:00:00Z')), false, 'Saturday 02:00');
    assert.equal(isInside(w, at('2026-12-11T01:00:00Z')), false, 'Friday 01:00: Thursday opened nothing');
  });

  it('the next opening: now when open, else the first minute of the next window', () => {
    const windows = [parseWindow('mon-fri 01:00-05:00'), parseWindow('sat 12:00-13:00')];
    const open = at('2026-12-07T02:00:00Z');
    assert.equal(nextOpening(windows, open), open);
    assert.equal(nextOpening(windows, at('2026-12-07T05:00:00Z'))?.toISOString(), '2026-12-08T01:00:00.000Z');
    assert.equal(nextOpening(windows, at('2026-12-11T06:10:30Z'))?.toISOString(), '2026-12-12T12:00:00.000Z');
    assert.equal(nextOpening([], open), open, 'no window: any time');
  });
});
