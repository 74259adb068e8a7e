import { invalidInput, InputScope } from './validation';

const WEEK = 7 * 86_400_000;
// Kubernetes' own check of spec.timeZone (pkg/apis/batch/validation validateTimeZone), before it
// asks Go's time.LoadLocation, which is case-sensitive where Intl is not.
const NAME_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/**
 * A CronJob's `timeZone` as the API server accepts it: an IANA name Go can load (Intl has the same
 * tz database), not empty and not "Local".
 */
export function checkTimeZone(scope: InputScope, timeZone: string): void {
  const fix = 'use an IANA time zone name such as "Europe/Berlin" or "UTC" (see https://www.iana.org/time-zones), or leave timeZone out for the kube-controller-manager\'s zone, normally UTC';
  const parts = timeZone.split('/');
  if (timeZone === '' || timeZone.toLowerCase() === 'local' || parts.some((p) => p === '.' || p === '..' || p.startsWith('-') || !NAME_PART.test(p))) {
    throw invalidInput(scope, 'timeZone', timeZone, fix);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw invalidInput(scope, 'timeZone', timeZone, fix);
  }
  const canonical = Intl.supportedValuesOf('timeZone').find((z) => z.toLowerCase() === timeZone.toLowerCase()) ?? resolved;
  if (canonical !== timeZone && canonical.toLowerCase() === timeZone.toLowerCase()) {
    throw invalidInput(scope, 'timeZone', timeZone, `write it as "${canonical}": Kubernetes reads time zone names case-sensitively`);
  }
}

/**
 * The UTC offsets of a time zone over a span of time, read once from Intl (Node carries the full
 * ICU tz database) and kept as a list of transitions, so that the many look-ups of a cron walk are
 * a binary search. Without a zone, UTC: the kube-controller-manager's zone when a CronJob sets no
 * `timeZone`, on every common distribution.
 */
export class ZoneOffsets {
  private static readonly cache = new Map<string, ZoneOffsets>();

  /** The offsets of `timeZone` (UTC when undefined) from `from` to `to` (epoch milliseconds). */
  public static of(timeZone: string | undefined, from: number, to: number): ZoneOffsets {
    const key = `${timeZone ?? 'UTC'} ${from} ${to}`;
    let zone = ZoneOffsets.cache.get(key);
    if (!zone) {
      zone = timeZone === undefined ? new ZoneOffsets([from], [0]) : ZoneOffsets.read(timeZone, from, to);
      ZoneOffsets.cache.set(key, zone);
    }
    return zone;
  }

  // Weekly samples, halved down to the second wherever two differ: tz rules never change an
  // offset and change it back within a week.
  private static read(timeZone: string, from: number, to: number): ZoneOffsets {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    const offsetAt = (t: number): number => {
      const p = Object.fromEntries(format.formatToParts(t).map((part) => [part.type, Number(part.value)]));
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - t;
    };
    const starts = [from];
    const offsets = [offsetAt(from)];
    const changes = (before: number, after: number, offsetBefore: number, offsetAfter: number): void => {
      if (offsetBefore === offsetAfter) return;
      if (after - before <= 1000) {
        starts.push(after);
        offsets.push(offsetAfter);
        return;
      }
      const middle = before + Math.floor((after - before) / 2000) * 1000;
      const offsetMiddle = offsetAt(middle);
      changes(before, middle, offsetBefore, offsetMiddle);
      changes(middle, after, offsetMiddle, offsetAfter);
    };
    for (let t = from; t < to; t += WEEK) {
      changes(t, t + WEEK, offsets[offsets.length - 1], offsetAt(t + WEEK));
    }
    return new ZoneOffsets(starts, offsets);
  }

  private constructor(private readonly starts: number[], private readonly offsets: number[]) {}

  /** The offset (milliseconds east of UTC) in force at instant `t`. */
  public offsetAt(t: number): number {
    return this.offsets[this.indexAt(t)];
  }

  /** The first instant after `t` at which the offset changes; Infinity when none is known. */
  public nextChangeAfter(t: number): number {
    return this.starts[this.indexAt(t) + 1] ?? Infinity;
  }

  private indexAt(t: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= t) low = middle; else high = middle - 1;
    }
    return low;
  }
}
