/**
 * How the library writes a rule of a PrometheusRule: alerts with their `for`, severity and
 * annotations (runbook and dashboard links), records labelled with their Pushgateway, and the
 * annotation templates that read values from Prometheus. One home, shared by the job alerts and the
 * Pushgateway alerts.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { PrometheusRuleSpecGroupsRules, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { AlertSeverity } from './batch-job';
import { PUSHGATEWAY_LABEL } from './job-series';
import { toPrometheusDuration } from './prometheus-duration';
import { invalidInput } from './validation';

const DEFAULT_FOR = Duration.minutes(5);

export interface AlertSpec {
  readonly expr: string[];
  readonly for?: Duration;
  /** A fixed severity; the job alerts take theirs from the job's declaration. */
  readonly severity?: AlertSeverity;
  readonly summary: string;
  readonly description: string;
  /** Whether the dashboard link selects the alert's job. */
  readonly jobDashboard?: boolean;
}

export class AlertRules {
  /**
   * @param gateway the value of the `pushgateway` label of the records
   * @param runbookBaseUrl alerts link to `<runbookBaseUrl>#<alert name in lower case>`
   * @param dashboardUrl alerts link to it, the job alerts with `?var-job=<job>`
   */
  constructor(private readonly gateway: string, private readonly runbookBaseUrl?: string, private readonly dashboardUrl?: string) {}

  public alert(name: string, spec: AlertSpec): PrometheusRuleSpecGroupsRules {
    const forDuration = spec.for ?? DEFAULT_FOR;
    return {
      alert: name,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(spec.expr.join('\n')),
      for: forDuration.toMilliseconds() > 0 ? toPrometheusDuration(forDuration) : undefined,
      labels: spec.severity ? { severity: spec.severity } : undefined,
      annotations: {
        summary: spec.summary,
        description: spec.description,
        ...(this.runbookBaseUrl ? { runbook_url: `${this.runbookBaseUrl}#${name.toLowerCase()}` } : {}),
        ...(this.dashboardUrl ? { dashboard_url: spec.jobDashboard ? `${this.dashboardUrl}?var-job={{ $labels.job | urlquery }}` : this.dashboardUrl } : {}),
      },
    };
  }

  public record(name: string, expr: string[]): PrometheusRuleSpecGroupsRules {
    return {
      record: name,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(expr.join('\n')),
      labels: { [PUSHGATEWAY_LABEL]: this.gateway },
    };
  }

  /**
   * An annotation template that shows a threshold series as a duration, e.g. the job's max
   * duration: the value lives in Prometheus, not in the rule, so the rule is the same for every job.
   */
  public thresholdText(format: string, args: string[]): string {
    return `{{ with ${this.query(format, args)} }}{{ . | first | value | humanizeDuration }}{{ end }}`;
  }

  /** A template pipeline that runs a PromQL query built with `printf` (label values quoted with `%q`). */
  public query(format: string, args: string[]): string {
    return `printf ${JSON.stringify(format)} ${args.join(' ')} | query`;
  }
}

/** A base URL as given, if it is an http(s) URL that cannot run as an annotation template. */
export function checkBaseUrl(scope: Construct, field: string, value: string, fix: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || value.includes('#') || value.includes('{{') || /\s/.test(value)) {
    throw invalidInput(scope, field, value, fix);
  }
  return value;
}
