import { Cron, Duration } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { cronScheduleGap } from '../lib/cron-schedule';

const schedule = (expression: string) => ({ expressionString: expression }) as Cron;
const hours = (h: number) => Duration.minutes(h * 60);

// The longest time between two runs, as robfig/cron v3 (the CronJob controller's parser and
// Next) runs the schedule in the CronJob's time zone. The DST rows are the cases where a naive
// wall-clock reading is wrong: Kubernetes skips a time the clocks jump over.
const GAPS: Array<[expression: string, timeZone: string | undefined, gap: Duration]> = [
  ['0 0 * * *', undefined, Duration.days(1)],
  ['*/15 * * * *', undefined, Duration.minutes(15)],
  ['30 */6 * * *', undefined, Duration.hours(6)],
  ['0 9,17 * * *', undefined, Duration.hours(16)],
  ['0 3 * * 1-5', undefined, Duration.days(3)],
  // Names (any case) and `?`, which the old check skipped.
  ['0 3 * * MON', undefined, Duration.days(7)],
  ['0 3 ? * 1', undefined, Duration.days(7)],
  ['0 3 ? * mon-fri', undefined, Duration.days(3)],
  ['0 0 1 jan,JUL ?', undefined, Duration.days(184)],
  ['0 0 * * 0-6/2', undefined, Duration.days(2)],
  // Both day fields restricted: either will do; `*/1` still counts as `*` (robfig's starBit).
  ['0 0 1 * MON', undefined, Duration.days(7)],
  ['0 0 1-31 * MON', undefined, Duration.days(1)],
  ['0 0 */1 * MON', undefined, Duration.days(7)],
  ['0 0 */2 * *', undefined, Duration.days(2)],
  // Months of 31 days, leap days.
  ['0 0 1 * *', undefined, Duration.days(31)],
  ['0 0 31 * *', undefined, Duration.days(61)],
  ['0 0 29 2 *', undefined, Duration.days(4 * 365 + 1)],
  // Descriptors.
  ['@hourly', undefined, Duration.hours(1)],
  ['@daily', undefined, Duration.days(1)],
  ['@weekly', undefined, Duration.days(7)],
  ['@monthly', undefined, Duration.days(31)],
  ['@yearly', undefined, Duration.days(366)],
  ['@every 1h30m', 'Europe/Berlin', Duration.minutes(90)],
  // Time zones: spring skips a run in the gap, autumn stretches a day to 25 hours.
  ['30 2 * * *', 'UTC', Duration.days(1)],
  ['30 2 * * *', 'Europe/Berlin', hours(47)],
  ['30 1 * * *', 'Europe/Berlin', hours(25)],
  ['0 3 * * *', 'Europe/Berlin', hours(25)],
  ['30 2 * * SUN', 'Europe/Berlin', hours(14 * 24 - 1)],
  ['30 2 * * *', 'America/New_York', hours(47)],
  ['0 12 * * *', 'America/New_York', hours(25)],
  ['* * * * MON', 'Europe/Berlin', Duration.minutes((6 * 24 + 1) * 60 + 1)],
  // Clocks that change at midnight: Kubernetes skips that day's midnight, and robfig's
  // midnight fix-up skips the whole Friday of Cairo's spring change.
  ['0 0 * * *', 'America/Santiago', hours(47)],
  ['0 1 * * FRI', 'Africa/Cairo', hours(14 * 24 - 1)],
  // Lord Howe moves its clocks by 30 minutes; robfig walks whole hours, so on the autumn day
  // (02:00 back to 01:30) 02:15 is stepped over too.
  ['15 2 * * *', 'Australia/Lord_Howe', hours(48.5)],
  ['45 1 * * *', 'Australia/Lord_Howe', Duration.days(1)],
  ['*/5 * * * *', 'Australia/Lord_Howe', Duration.minutes(5)],
];

describe('cronScheduleGap', () => {
  test.each(GAPS)('%s in %s leaves at most the gap Kubernetes leaves', (expression, timeZone, gap) => {
    expect(cronScheduleGap('test', 'schedule', schedule(expression), timeZone).duration.toMinutes()).toBe(gap.toMinutes());
  });

  test('names the runs around the longest gap, in the zone\'s wall-clock time', () => {
    const gap = cronScheduleGap('test', 'schedule', schedule('30 2 * * *'), 'Europe/Berlin');
    expect(gap.from).toMatch(/^\d{4}-03-(2[5-9]|3[01]) 02:30 \(UTC\+01:00\)$/);
    expect(gap.to).toMatch(/^\d{4}-(03-(2[7-9]|3[01])|04-01) 02:30 \(UTC\+02:00\)$/);
  });

  test('an every-minute schedule in a zone with DST stays quick', () => {
    const started = performance.now();
    expect(cronScheduleGap('test', 'schedule', schedule('* * * * *'), 'Europe/Berlin').duration.toMinutes()).toBe(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test.each([
    ['0 0 30 2 *', /it never runs \(day-of-month "30" never falls in month "2"\), so Kubernetes would never start the job/],
    ['0 0 31 4 *', /it never runs \(day-of-month "31" never falls in month "4"\)/],
    ['0 0 31 2,4,6 ?', /it never runs/],
    ['0 , * * *', /it never runs \(its minute or hour field selects nothing\)/],
    ['0 3 * * 7', /the day-of-week field allows 0 to 6 or SUN-SAT, not "7"/],
    ['0 3 * * MONDAY', /the day-of-week field allows 0 to 6 or SUN-SAT, not "MONDAY"/],
    ['0 3 0 * *', /the day-of-month field allows 1 to 31, not "0"/],
    ['0 3 * 13 *', /the month field allows 1 to 12 or JAN-DEC, not "13"/],
    ['0 24 * * *', /the hour field allows 0 to 23, not "24"/],
    ['0 3-1-2 * * *', /the hour field "3-1-2" is malformed/],
    ['@daily ', /unknown descriptor @daily /],
    ['@every 1d', /"1d" is not a Go duration/],
    ['TZ=UTC 0 3 * * *', /Kubernetes refuses a time zone in the schedule/],
    ['', /it is empty/],
  ])('fails with the schedule %j', (expression, reason) => {
    expect(() => cronScheduleGap('test', 'schedule', schedule(expression))).toThrow(reason);
  });

  test.each([
    ['Europe/berlin', /write it as "Europe\/Berlin"/],
    ['Local', /use an IANA time zone name/],
    ['Mars/Olympus', /use an IANA time zone name/],
    ['', /use an IANA time zone name/],
  ])('fails with the time zone %j', (timeZone, reason) => {
    expect(() => cronScheduleGap('test', 'schedule', Cron.daily(), timeZone)).toThrow(reason);
  });

  test('takes what Kubernetes takes: robfig reads "+5", "*-5" and "@every 0" without complaint', () => {
    expect(cronScheduleGap('test', 'schedule', schedule('+5 * * * *')).duration.toMinutes()).toBe(60);
    expect(cronScheduleGap('test', 'schedule', schedule('*-5 * * * *')).duration.toMinutes()).toBe(1);
    expect(cronScheduleGap('test', 'schedule', schedule('@every 0')).duration.toSeconds()).toBe(1);
    expect(cronScheduleGap('test', 'schedule', Cron.daily(), 'US/Eastern').duration.toHours()).toBe(25);
  });
});
