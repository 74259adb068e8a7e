import { Duration } from 'cdk8s';

const DAY: [string, number] = ['d', 86_400_000];
const UP_TO_HOURS: Array<[string, number]> = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/**
 * Formats a Duration as Prometheus and prometheus-operator read it (rules, scrape intervals):
 * whole units from days down, so `Duration.hours(36)` becomes `1d12h`.
 */
export function toPrometheusDuration(duration: Duration): string {
  return format(duration, [DAY, ...UP_TO_HOURS]);
}

/**
 * Formats a Duration for Go's time.ParseDuration, which the Pushgateway's flags use and which
 * knows no days: `Duration.hours(36)` becomes `36h`.
 */
export function toGoDuration(duration: Duration): string {
  return format(duration, UP_TO_HOURS);
}

function format(duration: Duration, units: Array<[string, number]>): string {
  let ms = Math.round(duration.toMilliseconds());
  if (ms === 0) return '0s';
  let out = '';
  for (const [unit, size] of units) {
    const count = Math.floor(ms / size);
    if (count > 0) {
      out += `${count}${unit}`;
      ms -= count * size;
    }
  }
  return out;
}
