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

/** A regex that matches exactly one of `values`, for `=~` matchers. */
export function anyOf(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** A vector selector: `metric{a="b",c="d"}`, with matchers in the given order. */
export function selector(metric: string, matchers: string[] = []): string {
  if (!METRIC_NAME.test(metric)) throw new Error(`invalid Prometheus metric name ${JSON.stringify(metric)}`);
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(',')}}`;
}

/** Matchers for every entry of `labels`, sorted by label name for stable output. */
export function equalityMatchers(labels: Record<string, string>): string[] {
  return Object.keys(labels).sort().map((k) => matcher(k, labels[k]));
}

/**
 * An instant vector that gives every `label` value of `metric` a constant of its own, e.g. each
 * job's interval in seconds, to compare or divide by with `on (label)`:
 * `3600 * group by (job) (m{job=~"a|b"}) or 86400 * group by (job) (m{job=~"c"})`. Label values
 * that share a constant share one term, so the expression grows by one regex alternative per
 * label value rather than one term per value. With no entries it selects nothing.
 */
export function constantByLabel(metric: string, label: string, constants: Record<string, number>): string {
  const byValue = new Map<number, string[]>();
  for (const labelValue of Object.keys(constants)) {
    const value = constants[labelValue];
    if (!Number.isFinite(value)) throw new Error(`constant for ${label}=${JSON.stringify(labelValue)} is not a finite number: ${value}`);
    byValue.set(value, [...(byValue.get(value) ?? []), labelValue]);
  }
  if (byValue.size === 0) return `group by (${label}) (${selector(metric, [matcher(label, '.*', '!~')])})`;
  return balancedOr([...byValue.keys()].sort((a, b) => a - b)
    .map((value) => `${value} * group by (${label}) (${selector(metric, [matcher(label, anyOf(byValue.get(value)!.sort()), '=~')])})`));
}

/**
 * `a or b or c ...` nested as a balanced tree of parenthesized halves: a flat chain of a few hundred
 * terms is a tree too deep for parsers such as Grafana's (lezer-promql gives up near 200). Equal to
 * the flat chain when the terms select disjoint series.
 */
function balancedOr(terms: string[]): string {
  if (terms.length <= 8) return terms.join(' or ');
  const half = Math.ceil(terms.length / 2);
  return `(${balancedOr(terms.slice(0, half))}) or (${balancedOr(terms.slice(half))})`;
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
