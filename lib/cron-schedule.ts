import { Cron, Duration } from 'cdk8s';
import { checkTimeZone, ZoneOffsets } from './time-zone';
import { invalidInput, InputScope, REQUIRED_CRON } from './validation';

// A port of what Kubernetes runs: the API server checks `schedule` with robfig/cron v3's
// ParseStandard (pkg/apis/batch/validation validateScheduleFormat), and the CronJob controller
// parses "TZ=<timeZone> <schedule>" the same way (formatSchedule) and asks Next() for each run.
// Comments name the robfig/cron v3 function (parser.go, spec.go, constantdelay.go) each part follows.

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** One field's accepted values and whether it was `*` or `?` (robfig's starBit). */
interface Field {
  readonly values: readonly boolean[];
  readonly star: boolean;
}

interface SpecSchedule {
  readonly minute: Field;
  readonly hour: Field;
  readonly dom: Field;
  readonly month: Field;
  readonly dow: Field;
}

interface Bounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

// spec.go: seconds are always 0 in the standard parser; day-of-week stops at 6 (7 is refused).
const MINUTES: Bounds = { name: 'minute', min: 0, max: 59 };
const HOURS: Bounds = { name: 'hour', min: 0, max: 23 };
const DOM: Bounds = { name: 'day-of-month', min: 1, max: 31 };
const MONTHS: Bounds = { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] };
const DOW: Bounds = { name: 'day-of-week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] };

const GAPS = new Map<string, ScheduleGap | undefined>();

/** Why a schedule is refused, worded to follow "invalid schedule <value>: ". */
class ScheduleProblem extends Error {}

/** The longest time between two runs, and the first two runs that far apart. */
export interface ScheduleGap {
  readonly duration: Duration;
  /** The run before the gap and the run after it, as wall-clock times in the schedule's zone. */
  readonly from: string;
  readonly to: string;
}

/**
 * Checks a CronJob schedule and time zone as Kubernetes reads them, and returns the longest time
 * between two of its runs, in that zone with its daylight-saving changes (the controller skips a
 * time the clocks jump over and runs twice in an hour they repeat). Bad input, and schedules that
 * never run (`0 0 30 2 *`), are refused naming the field.
 */
export function cronScheduleGap(scope: InputScope, field: string, schedule: Cron, timeZone?: string): ScheduleGap {
  if (!REQUIRED_CRON.accepts(schedule)) throw invalidInput(scope, field, schedule, `give ${REQUIRED_CRON.give}`);
  const expression = schedule.expressionString;
  if (timeZone !== undefined) checkTimeZone(scope, timeZone);
  let parsed: SpecSchedule | number;
  try {
    parsed = parseSchedule(expression);
  } catch (error) {
    if (!(error instanceof ScheduleProblem)) throw error;
    throw invalidInput(scope, field, expression,
      `${error.message}: use five fields "minute hour day-of-month month day-of-week" as Kubernetes reads them, e.g. Cron.schedule({ minute: '0', hour: '3' }) for "0 3 * * *"`);
  }
  if (typeof parsed === 'number') {
    return { duration: Duration.seconds(parsed / 1000), from: 'any run', to: `${parsed / 1000} seconds later` };
  }
  // Apps declare many jobs on a few schedules: walk each schedule once per zone.
  const key = `${expression}\n${timeZone ?? ''}`;
  if (!GAPS.has(key)) GAPS.set(key, longestGap(parsed, timeZone));
  const gap = GAPS.get(key);
  if (!gap) {
    throw invalidInput(scope, field, expression,
      `it never runs${neverReason(parsed, expression)}, so Kubernetes would never start the job: use days that exist in the months given (February has 28 or 29, April, June, September and November 30)`);
  }
  return gap;
}

// ---- parser.go -------------------------------------------------------------------------------

/** Parse (standard parser): a spec schedule, or the fixed delay of `@every` in milliseconds. */
function parseSchedule(spec: string): SpecSchedule | number {
  if (spec.length === 0) throw new ScheduleProblem('it is empty');
  // Kubernetes refuses any "TZ" on create (validateScheduleFormat), TZ= and CRON_TZ= alike.
  if (spec.includes('TZ')) throw new ScheduleProblem('Kubernetes refuses a time zone in the schedule (set timeZone instead)');
  if (spec.startsWith('@')) return parseDescriptor(spec);
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new ScheduleProblem(`it has ${fields.length} fields, not 5`);
  return {
    minute: getField(fields[0], MINUTES),
    hour: getField(fields[1], HOURS),
    dom: getField(fields[2], DOM),
    month: getField(fields[3], MONTHS),
    dow: getField(fields[4], DOW),
  };
}

function getField(field: string, bounds: Bounds): Field {
  const values: boolean[] = new Array(bounds.max + 1).fill(false);
  let star = false;
  // strings.FieldsFunc: empty list items are dropped.
  for (const expr of field.split(',').filter((e) => e !== '')) {
    star = getRange(expr, field, bounds, values) || star;
  }
  return { values, star };
}

/** getRange: marks the values of one list item, and says whether it counts as `*`. */
function getRange(expr: string, field: string, bounds: Bounds, values: boolean[]): boolean {
  const { name, min, max } = bounds;
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  let star = false;
  // Only the low end is looked at after `*` or `?` (so robfig reads "*-5" as "*").
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    [start, end, star] = [min, max, true];
  } else {
    if (lowAndHigh.length > 2) throw new ScheduleProblem(`the ${name} field "${field}" is malformed`);
    start = parseIntOrName(lowAndHigh[0], bounds);
    end = lowAndHigh.length === 2 ? parseIntOrName(lowAndHigh[1], bounds) : start;
  }
  let step = 1;
  if (rangeAndStep.length > 2) throw new ScheduleProblem(`the ${name} field "${field}" is malformed`);
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1], bounds);
    if (lowAndHigh.length === 1) end = max;
    if (step > 1) star = false;
  }
  const names = bounds.names ? ` or ${bounds.names[0].toUpperCase()}-${bounds.names[bounds.names.length - 1].toUpperCase()}` : '';
  if (start < min) throw new ScheduleProblem(`the ${name} field allows ${min} to ${max}${names}, not "${start}"`);
  if (end > max) throw new ScheduleProblem(`the ${name} field allows ${min} to ${max}${names}, not "${end}"`);
  if (start > end) throw new ScheduleProblem(`the ${name} range "${rangeAndStep[0]}" ends before it starts`);
  if (step === 0) throw new ScheduleProblem(`the ${name} field "${field}" has a step of 0`);
  for (let v = start; v <= end; v += step) values[v] = true;
  return star;
}

function parseIntOrName(expr: string, bounds: Bounds): number {
  const named = bounds.names?.indexOf(expr.toLowerCase()) ?? -1;
  return named >= 0 ? bounds.min + named : parseNumber(expr, bounds);
}

/** mustParseInt: Go's strconv.Atoi (an optional sign, decimal digits), never negative. */
function parseNumber(expr: string, bounds: Bounds): number {
  if (!/^[+-]?\d+$/.test(expr) || Number(expr) < 0) {
    const names = bounds.names ? ` or ${bounds.names[0].toUpperCase()}-${bounds.names[bounds.names.length - 1].toUpperCase()}` : '';
    throw new ScheduleProblem(`the ${bounds.name} field allows ${bounds.min} to ${bounds.max}${names}, not "${expr}"`);
  }
  return Number(expr);
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** parseDescriptor: the exact string (no trimming), or "@every <Go duration>". */
function parseDescriptor(spec: string): SpecSchedule | number {
  if (DESCRIPTORS[spec]) return parseSchedule(DESCRIPTORS[spec]);
  const every = /^@every (.*)$/s.exec(spec);
  if (!every) throw new ScheduleProblem(`unknown descriptor ${spec}`);
  const nanos = goDuration(every[1]);
  if (nanos === undefined) throw new ScheduleProblem(`"${every[1]}" is not a Go duration such as 1h30m`);
  // Every(): at least a second, whole seconds.
  const seconds = Math.max(1, Math.floor(nanos / 1e9));
  return seconds * 1000;
}

const UNIT_NANOS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, in nanoseconds (negative ones count as under a second, as in Every()). */
function goDuration(text: string): number | undefined {
  const signed = /^([-+]?)(.*)$/s.exec(text)!;
  if (signed[2] === '0') return 0;
  const part = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  const rest = signed[2];
  if (rest === '') return undefined;
  while (at < rest.length) {
    part.lastIndex = at;
    const m = part.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    total += Number(`${m[1] || '0'}.${m[2] ?? ''}0`) * UNIT_NANOS[m[3]];
    at = part.lastIndex;
  }
  return signed[1] === '-' ? -total : total;
}

// ---- spec.go: Next ---------------------------------------------------------------------------

interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

/** The instants of one zone, read as Go's time.Time in that location reads them. */
class ZonedClock {
  constructor(private readonly zone: ZoneOffsets) {}

  public wall(t: number): Wall {
    const d = new Date(t + this.zone.offsetAt(t));
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay(),
    };
  }

  /** time.Date: a wall time the clocks skip is read with the offset before the change, as Go does. */
  public date(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    const wall = Date.UTC(year, month - 1, day, hour, minute, second);
    return wall - this.zone.offsetAt(wall - this.zone.offsetAt(wall));
  }

  /**
   * How many steps of `unit` from `t`, whose wall value is `current` of `cycle`, reach the next
   * accepted value or the wrap to 0: all of them when the offset does not change on the way,
   * else one, so that stepping one at a time reads every wall value the way Go does.
   */
  public steadySteps(t: number, unit: number, current: number, cycle: number, accepted: readonly boolean[]): number {
    let steps = 1;
    while (current + steps < cycle && !accepted[current + steps]) steps++;
    return this.zone.nextChangeAfter(t) > t + steps * unit ? steps : 1;
  }

  /** time.AddDate. */
  public addDate(t: number, months: number, days: number): number {
    const w = this.wall(t);
    return this.date(w.year, w.month + months, w.day + days, w.hour, w.minute, w.second);
  }
}

function dayMatches(s: SpecSchedule, w: Wall): boolean {
  const domMatch = s.dom.values[w.day];
  const dowMatch = s.dow.values[w.weekday];
  // Both restricted: either day field will do; one of them `*` or `?`: both must match.
  return s.dom.star || s.dow.star ? domMatch && dowMatch : domMatch || dowMatch;
}

/** SpecSchedule.Next: the first run after `from`, or undefined when none comes within five years. */
function next(s: SpecSchedule, clock: ZonedClock, from: number): number | undefined {
  let t = from - (((from % 1000) + 1000) % 1000) + 1000;
  let added = false;
  const yearLimit = clock.wall(t).year + 5;
  wrap: for (;;) {
    let w = clock.wall(t);
    if (w.year > yearLimit) return undefined;
    while (!s.month.values[w.month]) {
      if (!added) { added = true; t = clock.date(w.year, w.month, 1, 0, 0, 0); }
      t = clock.addDate(t, 1, 0);
      w = clock.wall(t);
      if (w.month === 1) continue wrap;
    }
    while (!dayMatches(s, w)) {
      if (!added) { added = true; t = clock.date(w.year, w.month, w.day, 0, 0, 0); }
      t = clock.addDate(t, 0, 1);
      w = clock.wall(t);
      // robfig's fix-up for zones whose clocks change at midnight.
      if (w.hour !== 0) {
        t += (w.hour > 12 ? 24 - w.hour : -w.hour) * HOUR;
        w = clock.wall(t);
      }
      if (w.day === 1) continue wrap;
    }
    while (!s.hour.values[w.hour]) {
      if (!added) { added = true; t = clock.date(w.year, w.month, w.day, w.hour, 0, 0); }
      // Many steps of an hour at once when the offset stays put: the same walk, faster.
      t += clock.steadySteps(t, HOUR, w.hour, 24, s.hour.values) * HOUR;
      w = clock.wall(t);
      if (w.hour === 0) continue wrap;
    }
    while (!s.minute.values[w.minute]) {
      if (!added) { added = true; t -= ((t % MINUTE) + MINUTE) % MINUTE; }
      t += clock.steadySteps(t, MINUTE, w.minute, 60, s.minute.values) * MINUTE;
      w = clock.wall(t);
      if (w.minute === 0) continue wrap;
    }
    // The seconds loop, in one step: every offset in the tz database is whole minutes since 1972.
    if (w.second !== 0) {
      added = true;
      t += (60 - w.second) * 1000;
      continue wrap;
    }
    return t;
  }
}

// ---- the longest gap -------------------------------------------------------------------------

/**
 * Walks the runs over 28 years from the start of this year: the Gregorian calendar (weekdays with
 * leap years) repeats every 28 years from 1901 to 2099, and so do the daylight-saving rules of
 * the tz database, which are tied to weekdays or dates. Every gap the schedule can have, however
 * its days meet leap days and clock changes, is one of these. Runs within a day on which the
 * offset does not change are skipped over in one step: their gaps are those of the wall clock.
 */
function longestGap(s: SpecSchedule, timeZone: string | undefined): ScheduleGap | undefined {
  const year = new Date().getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 28, 0, 1);
  const zone = ZoneOffsets.of(timeZone, start - 2 * 86_400_000, Date.UTC(year + 34, 0, 1));
  const clock = new ZonedClock(zone);
  const times = minutesOfDay(s);
  if (times.length === 0) return undefined;
  const index = new Map(times.map((m, i) => [m, i]));
  // The widest step between a day's runs from each one to the day's last.
  const widestFrom: Array<{ gap: number; at: number }> = new Array(times.length);
  widestFrom[times.length - 1] = { gap: 0, at: times.length - 1 };
  for (let i = times.length - 2; i >= 0; i--) {
    const step = times[i + 1] - times[i];
    widestFrom[i] = step >= widestFrom[i + 1].gap ? { gap: step, at: i } : widestFrom[i + 1];
  }

  let best: { gap: number; from: number } | undefined;
  const record = (gap: number, from: number): void => {
    if (!best || gap > best.gap) best = { gap, from };
  };
  let t = next(s, clock, start - 1000);
  while (t !== undefined && t < end) {
    const w = clock.wall(t);
    const i = index.get(w.hour * 60 + w.minute)!;
    const last = t + (times[times.length - 1] - times[i]) * MINUTE;
    if (i < times.length - 1 && zone.nextChangeAfter(t) > last) {
      const widest = widestFrom[i];
      record(widest.gap * MINUTE, t + (times[widest.at] - times[i]) * MINUTE);
      t = last;
    }
    const following = next(s, clock, t);
    if (following === undefined) return undefined;
    record(following - t, t);
    t = following;
  }
  if (!best) return undefined;
  const found = best as { gap: number; from: number };
  return { duration: Duration.seconds(found.gap / 1000), from: formatWall(clock, zone, found.from), to: formatWall(clock, zone, found.from + found.gap) };
}

function minutesOfDay(s: SpecSchedule): number[] {
  const out: number[] = [];
  for (let h = 0; h < 24; h++) {
    for (let m = 0; m < 60; m++) if (s.hour.values[h] && s.minute.values[m]) out.push(h * 60 + m);
  }
  return out;
}

function formatWall(clock: ZonedClock, zone: ZoneOffsets, t: number): string {
  const w = clock.wall(t);
  const offset = zone.offsetAt(t) / MINUTE;
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offset < 0 ? '-' : '+';
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)} (UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)})`;
}

/** Why five valid fields never meet: no time of day, or days that the months given do not have. */
function neverReason(s: SpecSchedule, expression: string): string {
  if (minutesOfDay(s).length === 0) return ' (its minute or hour field selects nothing)';
  const [, , dom, month] = expression.trim().split(/\s+/);
  return ` (day-of-month "${dom}" never falls in month "${month}")`;
}
