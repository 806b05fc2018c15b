import { swarmError } from '@swarm/errors';

/**
 * A maintenance window, `DAYS HH:MM-HH:MM [TZ]` (wiki/rollouts.md#maintenance-windows): the
 * days it opens on (`*`, a range `mon-fri`, a list `sat,sun`, or both `mon,wed-fri`), its
 * opening and closing time of day in the IANA time zone `TZ` (default UTC). A window whose
 * closing time is not after its opening time crosses midnight: it closes the next day.
 */
export interface MaintenanceWindow {
  /** As given, for messages. */
  readonly spec: string;
  /** Days of the week it opens on, 0 = Sunday. */
  readonly days: ReadonlySet<number>;
  /** Minutes after local midnight. */
  readonly opens: number;
  readonly closes: number;
  readonly timeZone: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** How far ahead the next opening is looked for: a week and a day covers every window. */
const HORIZON_MINUTES = 8 * 24 * 60;

function refuse(spec: string, problem: string): never {
  throw swarmError(
    'SWARM_ERR_USAGE_INVALID',
    `--window "${spec}": ${problem} (expected DAYS HH:MM-HH:MM [TZ], e.g. "mon-fri 01:00-05:00 Europe/Berlin")`,
  );
}

function parseDays(spec: string, text: string): Set<number> {
  if (text === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  const day = (name: string) => {
    const i = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
    if (i < 0) refuse(spec, `"${name}" is not a day (use ${DAY_NAMES.join(', ')} or *)`);
    return i;
  };
  for (const part of text.split(',')) {
    const [from, to, extra] = part.split('-');
    if (extra !== undefined || !from) refuse(spec, `"${part}" is not a day or a range of days`);
    const a = day(from);
    if (to === undefined) {
      days.add(a);
      continue;
    }
    // A range may wrap around the week: fri-mon is fri, sat, sun, mon.
    for (let d = a, b = day(to); ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

function parseTime(spec: string, text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const hours = Number(m?.[1]);
  const minutes = Number(m?.[2]);
  if (!m || minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) {
    refuse(spec, `"${text}" is not a time of day HH:MM (00:00 to 24:00)`);
  }
  return hours * 60 + minutes;
}

/** Parse `--window SPEC`; a usage error (exit 2) naming the exact problem otherwise. */
export function parseWindow(spec: string): MaintenanceWindow {
  const fields = spec.trim().split(/\s+/);
  if (fields.length < 2 || fields.length > 3) refuse(spec, `${fields.length} field(s)`);
  const [daysText, timesText, timeZone = 'UTC'] = fields as [string, string, string?];
  const days = parseDays(spec, daysText);
  const [opensText, closesText, extra] = timesText.split('-');
  if (opensText === undefined || closesText === undefined || extra !== undefined) {
    refuse(spec, `"${timesText}" is not a range of times HH:MM-HH:MM`);
  }
  const opens = parseTime(spec, opensText);
  const closes = parseTime(spec, closesText);
  if (opens === closes) refuse(spec, 'the window opens and closes at the same time');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    refuse(spec, `"${timeZone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  }
  return { spec, days, opens: opens % (24 * 60), closes, timeZone };
}

/** The weekday (0 = Sunday) and minute of the day of `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = DAY_NAMES.indexOf(get('weekday').toLowerCase() as (typeof DAY_NAMES)[number]);
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** True when `at` is inside `window`. */
export function isInside(window: MaintenanceWindow, at: Date): boolean {
  const { day, minute } = localTime(at, window.timeZone);
  if (window.opens < window.closes) return window.days.has(day) && minute >= window.opens && minute < window.closes;
  // Crossing midnight: the evening of an opening day, or the morning after one.
  return (window.days.has(day) && minute >= window.opens) || (window.days.has((day + 6) % 7) && minute < window.closes);
}

/**
 * When the rollout may start a host: `now` when no window is given or one is open, else the
 * next opening (to the minute), or null when none opens within a week and a day (it cannot
 * happen with a valid window, but a caller must not wait forever).
 */
export function nextOpening(windows: readonly MaintenanceWindow[], now: Date): Date | null {
  if (windows.length === 0 || windows.some((w) => isInside(w, now))) return now;
  const start = Math.ceil(now.getTime() / 60_000) * 60_000;
  for (let i = 0; i <= HORIZON_MINUTES; i += 1) {
    const at = new Date(start + i * 60_000);
    if (windows.some((w) => isInside(w, at))) return at;
  }
  return null;
}

/**
 * Wait until a window is open (at once when none is given or one is open), saying on `notes`
 * when the next one opens. Resolves false when `signal` aborts first. Re-checks at least every
 * minute, so a clock that jumps (NTP, a suspended laptop) is followed.
 */
export async function waitForWindow(
  windows: readonly MaintenanceWindow[],
  signal: AbortSignal,
  notes?: { write(chunk: string): unknown },
): Promise<boolean> {
  let told: number | null = null;
  for (;;) {
    if (signal.aborted) return false;
    const now = new Date();
    const next = nextOpening(windows, now);
    if (next === now) return true;
    const at = next ?? new Date(now.getTime() + 60_000);
    if (next && told !== next.getTime()) {
      notes?.write(`outside the maintenance windows: the next opens at ${next.toISOString()}; waiting\n`);
      told = next.getTime();
    }
    const wait = Math.max(50, Math.min(60_000, at.getTime() - now.getTime()));
    const aborted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, wait);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (aborted) return false;
  }
}
