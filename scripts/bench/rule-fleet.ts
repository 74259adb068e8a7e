// The fleet of `npm run bench:rules`: N jobs, a third each hourly, daily and weekly, and the two rule
// sets it compares on them: the library's (whatever PrometheusRule groups BatchJobAlerts synthesizes)
// and the naive per-job rules, one instant selector per alert.
import { App, Chart, Duration, Testing } from 'cdk8s';
import { BatchJobAlerts, Pushgateway } from '../../lib';

export const INTERVAL_CLASSES = ['hourly', 'daily', 'weekly'] as const;
export type IntervalClass = typeof INTERVAL_CLASSES[number];

const CLASS_INTERVAL_SECONDS: Record<IntervalClass, number> = { hourly: 3600, daily: 86_400, weekly: 604_800 };
const CLASS_MAX_DURATION_SECONDS: Record<IntervalClass, number> = { hourly: 600, daily: 3600, weekly: 7200 };
// The library's default grace for these intervals, given explicitly so that both rule sets share it.
const CLASS_GRACE_SECONDS: Record<IntervalClass, number> = { hourly: 900, daily: 7200, weekly: 7200 };

export interface FleetJob {
  readonly name: string;
  readonly intervalClass: IntervalClass;
  readonly intervalSeconds: number;
  readonly maxDurationSeconds: number;
  readonly graceSeconds: number;
  /** How long each run takes (every run succeeds). */
  readonly runSeconds: number;
  /** Runs start at `phaseSeconds + k * intervalSeconds` (Unix time), spreading the jobs over their interval. */
  readonly phaseSeconds: number;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: Array<{ record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string> }>;
}

export function fleet(count: number): FleetJob[] {
  return Array.from({ length: count }, (_, i) => {
    const intervalClass = INTERVAL_CLASSES[i % INTERVAL_CLASSES.length];
    const intervalSeconds = CLASS_INTERVAL_SECONDS[intervalClass];
    return {
      name: `job-${String(i).padStart(4, '0')}`,
      intervalClass,
      intervalSeconds,
      maxDurationSeconds: CLASS_MAX_DURATION_SECONDS[intervalClass],
      graceSeconds: CLASS_GRACE_SECONDS[intervalClass],
      runSeconds: 30 + ((i * 37) % 270),
      phaseSeconds: (i * 7919) % intervalSeconds,
    };
  });
}

/**
 * The library's rule groups for `jobs` (every group of every PrometheusRule the chart synthesizes),
 * and the labels Prometheus gives the series it scrapes from that Pushgateway (honor_labels keeps
 * the pushed `job`; the pushed `instance=""` is dropped as empty).
 */
export function libraryRules(jobs: FleetJob[]): { groups: RuleGroup[]; targetLabels: Record<string, string> } {
  const chart = new Chart(new App(), 'bench', { namespace: 'monitoring' });
  const pushgateway = new Pushgateway(chart, 'Pushgateway');
  const alerts = new BatchJobAlerts(chart, 'Alerts', { pushgateway });
  for (const job of jobs) {
    alerts.addJob({
      name: job.name,
      interval: Duration.seconds(job.intervalSeconds),
      grace: Duration.seconds(job.graceSeconds),
      maxDuration: Duration.seconds(job.maxDurationSeconds),
    });
  }
  const objects = Testing.synth(chart);
  const endpoint = objects.find((o) => o.kind === 'ServiceMonitor').spec.endpoints[0];
  return {
    groups: objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups),
    targetLabels: {
      namespace: pushgateway.namespace,
      service: pushgateway.name,
      pod: `${pushgateway.name}-7d9f8-abcde`,
      endpoint: endpoint.port,
      container: 'pushgateway',
    },
  };
}

/** The least a team could write by hand: per job, one instant selector per alert, in a group of its own. */
export function naiveRules(jobs: FleetJob[]): RuleGroup[] {
  return jobs.map((job) => {
    const sel = (metric: string) => `${metric}{job="${job.name}"}`;
    const labels = { job: job.name };
    const deadline = job.intervalSeconds + job.graceSeconds;
    return {
      name: `naive.${job.name}`,
      rules: [
        { alert: 'NaiveFailure', expr: `${sel('batch_job_success')} == 0`, for: '5m', labels },
        { alert: 'NaiveDurationHigh', expr: `${sel('batch_job_duration_seconds')} > ${job.maxDurationSeconds}`, for: '5m', labels },
        { alert: 'NaiveNotRunning', expr: `time() - ${sel('batch_job_last_success_timestamp_seconds')} > ${deadline}`, for: '5m', labels },
      ],
    };
  });
}

/**
 * The job a rule is about: its `job` label, or the one fleet job its expression names with
 * `job="..."`; undefined for a rule about no single job (the Pushgateway's own, or a generic rule
 * over all jobs).
 */
export function jobOfRule(rule: RuleGroup['rules'][number], names: Set<string>): string | undefined {
  if (rule.labels?.job && names.has(rule.labels.job)) return rule.labels.job;
  const named = new Set([...rule.expr.matchAll(/\bjob="([^"]*)"/g)].map((m) => m[1]).filter((n) => names.has(n)));
  return named.size === 1 ? [...named][0] : undefined;
}
