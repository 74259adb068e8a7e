import { Duration } from 'cdk8s';
import { toPrometheusDuration } from './prometheus-duration';

/**
 * The one place that turns values into PromQL text. Every label value goes through
 * `quoteLabelValue`, so no job name or label can break out of its string and inject PromQL.
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a valid Prometheus label name (not reserved with a `__` prefix). */
export function isPromLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__');
}

/** A PromQL double-quoted string literal holding `value` exactly. */
export function quoteLabelValue(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A label matcher, e.g. `job="daily-backup"`; `op` is one of `=`, `!=`, `=~`, `!~`. */
export function matcher(name: string, value: string, op: '=' | '!=' | '=~' | '!~' = '='): string {
  if (!LABEL_NAME.test(name)) throw new Error(`invalid Prometheus label name ${JSON.stringify(name)}`);
  return `${name}${op}${quoteLabelValue(value)}`;
}

/**
 * `expr` with label `name` set to `value` on every series: `label_replace(expr, "name", "value",
 * "", "")`. `$` is doubled, since label_replace would expand `$name` in a replacement.
 */
export function withLabel(expr: string, name: string, value: string): string {
  if (!LABEL_NAME.test(name)) throw new Error(`invalid Prometheus label name ${JSON.stringify(name)}`);
  return `label_replace(${expr}, ${quoteLabelValue(name)}, ${quoteLabelValue(value.replace(/\$/g, '$$$$'))}, "", "")`;
}

/** A vector selector: `metric{a="b",c="d"}`, with matchers in the given order. */
export function selector(metric: string, matchers: string[] = []): string {
  if (!METRIC_NAME.test(metric)) throw new Error(`invalid Prometheus metric name ${JSON.stringify(metric)}`);
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(',')}}`;
}

/** Longest subquery step of `lastOverTime`: below Prometheus's default lookback (5m), so no gap between steps goes unseen. */
const MAX_LAST_STEP_MS = 4 * 60_000;

/**
 * The value of `series` at its newest sample within `window`, like `last_over_time(series[window])`,
 * reading about a dozen samples per series however long the window, instead of one per scrape or
 * evaluation in it: the newest sample of the last step, else a subquery at that step. A series that
 * went quiet keeps its last sample, which the step at or after it still sees, so nothing is lost.
 */
export function lastOverTime(series: string, window: Duration): string {
  const stepMs = Math.min(MAX_LAST_STEP_MS, Math.max(1000, Math.floor(window.toMilliseconds() / 12 / 1000) * 1000));
  const step = toPrometheusDuration(Duration.millis(stepMs));
  return `(last_over_time(${series}[${step}]) or last_over_time(${series}[${toPrometheusDuration(window)}:${step}]))`;
}
