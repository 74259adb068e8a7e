/**
 * The alerts about a Pushgateway itself (down, a replica down, pushes rejected) and about pushes
 * to any of its groups: the same whatever the jobs are.
 */
import { Duration } from 'cdk8s';
import { PrometheusRuleSpecGroupsRules } from '../imports/monitoring.coreos.com';
import { AlertRules } from './alert-rules';
import { AlertSeverity } from './batch-job';
import { pushgatewayId } from './job-series';
import { toPrometheusDuration } from './prometheus-duration';
import { lastOverTime, matcher, selector } from './promql';
import { IPushgateway } from './pushgateway-interface';
import { pushgatewayNearCapacity } from './pushgateway-capacity';

// A rejected push is a single event (often the first 4xx, which only creates the counter): it
// keeps the alert active this long.
const REJECTED_PUSH_WINDOW = Duration.hours(1);

export interface PushgatewayAlertsSpec {
  readonly pushgateway: IPushgateway;
  readonly rules: AlertRules;
  /** How long the last values of a group count when its series are gone. */
  readonly gap: Duration;
  /** The scrape `job` of kube-state-metrics (the Pushgateway container's memory limit). */
  readonly kubeStateMetricsJob: string;
  readonly for: { pushFailed?: Duration; pushgatewayDown?: Duration; pushgatewayReplicaDown?: Duration; pushesRejected?: Duration };
}

/** The Pushgateway's own metrics: `job` is its scrape job, the Service name. */
export function pushgatewaySelector(pushgateway: IPushgateway, metric: string, extra: string[] = []): string {
  return selector(metric, [matcher('job', pushgateway.name), matcher('namespace', pushgateway.namespace), ...extra]);
}

/** Series the Pushgateway holds for pushed groups: `job` is the pushed one (honorLabels), the target labels are its own. */
export function pushedMatchers(pushgateway: IPushgateway): string[] {
  return [matcher('namespace', pushgateway.namespace), matcher('service', pushgateway.name)];
}

export function pushgatewayAlerts(spec: PushgatewayAlertsSpec): PrometheusRuleSpecGroupsRules[] {
  const { pushgateway, rules } = spec;
  const gateway = pushgatewayId(pushgateway);
  const last = (metric: string) => lastOverTime(selector(metric, pushedMatchers(pushgateway)), spec.gap);
  const up = pushgatewaySelector(pushgateway, 'up');
  const rejected = pushgatewaySelector(pushgateway, 'pushgateway_http_requests_total', [matcher('handler', 'push'), matcher('code', '4..', '=~')]);
  const window = toPrometheusDuration(REJECTED_PUSH_WINDOW);
  const replicas = pushgateway.replicas;
  return [
    rules.alert('BatchJobPushFailed', {
      // Per group, across replicas: a later successful push to any replica clears it.
      expr: [
        'max without (pod, endpoint, service, container) (',
        `  ${last('push_failure_time_seconds')}`,
        ')',
        '>',
        'max without (pod, endpoint, service, container) (',
        `  ${last('push_time_seconds')}`,
        ')',
      ],
      for: spec.for.pushFailed,
      severity: AlertSeverity.WARNING,
      summary: 'Pushes of batch job {{ $labels.job }} are rejected',
      description: `Pushgateway ${gateway} rejected a push to a group of job {{ $labels.job }} at {{ $value | humanizeTimestamp }}, `
        + 'later than its last successful push: the group keeps the metrics of that earlier push, if any.',
      jobDashboard: true,
    }),
    rules.alert('PushgatewayDown', {
      expr: [
        `max by (namespace, job) (${up}) == 0`,
        'or',
        `absent(${up})`,
      ],
      for: spec.for.pushgatewayDown,
      severity: AlertSeverity.CRITICAL,
      summary: `Pushgateway ${gateway} is down`,
      description: `Prometheus cannot scrape any replica of Pushgateway ${gateway}: its targets are down or missing. `
        + 'Batch jobs cannot push, and the alerts about them see no new data.',
    }),
    ...(replicas > 1 ? [rules.alert('PushgatewayReplicaDown', {
      // With no replica up, PushgatewayDown fires instead (the count is then empty).
      expr: [`count by (namespace, job) (${up} == 1) < ${replicas}`],
      for: spec.for.pushgatewayReplicaDown,
      severity: AlertSeverity.WARNING,
      summary: `A replica of Pushgateway ${gateway} is down`,
      description: `Only {{ $value }} of the ${replicas} replicas of Pushgateway ${gateway} can be scraped. `
        + 'Pushers still reach the others and the alerts take the newest push of each job, but one more failure is an outage.',
    })] : []),
    rules.alert('PushgatewayNearCapacity', {
      ...pushgatewayNearCapacity({ name: pushgateway.name, namespace: pushgateway.namespace, kubeStateMetricsJob: spec.kubeStateMetricsJob }),
      for: Duration.minutes(15),
      severity: AlertSeverity.WARNING,
    }),
    rules.alert('PushgatewayPushesRejected', {
      // A counter series appears with its first rejection, which increase() cannot see: a
      // series that did not exist an hour ago counts as well.
      expr: [
        `sum by (namespace, job) (increase(${rejected}[${window}])) > 0`,
        'or',
        'count by (namespace, job) (',
        `  ${rejected}`,
        '  unless',
        `  ${rejected} offset ${window}`,
        ')',
      ],
      for: spec.for.pushesRejected,
      severity: AlertSeverity.WARNING,
      summary: `Pushgateway ${gateway} rejects pushes`,
      description: `Pushgateway ${gateway} answered pushes with a 4xx status in the last ${window}: `
        + 'malformed or inconsistent pushes never reach a group, so some job\'s results are missing.',
    }),
  ];
}
