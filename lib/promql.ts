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
