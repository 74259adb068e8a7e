import { Cron, Duration } from 'cdk8s';

const FIELDS: Array<[min: number, max: number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

/**
 * The longest gap between two runs of a cron schedule (minute hour day-of-month month day-of-week,
 * numbers, `*`, ranges, steps and lists), found by walking four years and a week of days (a whole
 * leap-year cycle, and a week more for a gap that runs past its end): the time a job on that
 * schedule may go without running. Undefined for what it does not understand (names like `MON`,
 * macros like `@daily`), so callers ask for the interval instead of guessing.
 */
export function cronPeriod(schedule: Cron): Duration | undefined {
  const fields = schedule.expressionString.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const sets = fields.map((field, i) => parseField(field, FIELDS[i][0], FIELDS[i][1]));
  if (sets.some((s) => s === undefined)) return undefined;
  const [minutes, hours, days, months, weekdays] = sets as Array<Set<number>>;
  if (weekdays.has(7)) weekdays.add(0);
  // Cron's rule: when both day fields are restricted, a day matches if either does.
  const domAny = fields[2] === '*';
  const dowAny = fields[4] === '*';
  const minuteList = [...minutes].sort((a, b) => a - b);
  const hourList = [...hours].sort((a, b) => a - b);

  const start = Date.UTC(2024, 0, 1); // a leap year, so 29 February schedules are seen
  let previous: number | undefined;
  let longest = 0;
  for (let day = 0; day < 366 * 4 + 7; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    const domMatch = days.has(date.getUTCDate());
    const dowMatch = weekdays.has(date.getUTCDay());
    const dayMatches = domAny && dowAny ? true : domAny ? dowMatch : dowAny ? domMatch : domMatch || dowMatch;
    if (!dayMatches) continue;
    for (const hour of hourList) {
      for (const minute of minuteList) {
        const t = date.getTime() + hour * 3_600_000 + minute * 60_000;
        if (previous !== undefined) longest = Math.max(longest, t - previous);
        previous = t;
      }
    }
  }
  return longest > 0 ? Duration.minutes(longest / 60_000) : undefined;
}

function parseField(field: string, min: number, max: number): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const from = match[1] === '*' ? min : Number(match[2]);
    const to = match[1] === '*' ? max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? max : from;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}
