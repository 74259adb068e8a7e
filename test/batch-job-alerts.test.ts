import { App, Chart, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchJob, BatchJobAlerts, BatchMonitoringChart, KubePrometheusFlavour, Pushgateway } from '../lib';
import { declaredSeries } from './helpers/declarations';
import { synth } from './helpers/synth';

const RUNBOOKS = 'https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md';
const DAILY: BatchJob = { name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) };
const HOURLY: BatchJob = { name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) };

function chartWithJobs(props: ConstructorParameters<typeof BatchMonitoringChart>[2] = {}) {
  const chart = new BatchMonitoringChart(new App(), 'test', { alerts: { runbookBaseUrl: RUNBOOKS }, cleanupEnabled: false, ...props });
  chart.addJob(DAILY);
  chart.addJob(HOURLY);
  chart.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
  chart.alerts.addCronJob({ name: 'nightly-report', namespace: 'reports', interval: Duration.hours(24) });
  return chart;
}

/** A bare chart with a Pushgateway and BatchJobAlerts, for the construct on its own. */
function standalone(props: Partial<ConstructorParameters<typeof BatchJobAlerts>[2]> = {}) {
  const chart = new Chart(new App(), 'test', { namespace: 'monitoring' });
  const pushgateway = new Pushgateway(chart, 'Pushgateway');
  const alerts = new BatchJobAlerts(chart, 'Alerts', { pushgateway, ...props });
  return { chart, pushgateway, alerts };
}

function rules(rule: any): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const group of rule.spec.groups) for (const r of group.rules) if (r.alert) (out[r.alert] ??= []).push({ ...r, group: group.name });
  return out;
}

function records(rule: any): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  for (const group of rule.spec.groups) for (const r of group.rules) if (r.record) (out[r.record] ??= []).push({ ...r, group: group.name });
  return out;
}

describe('BatchJobAlerts', () => {
  it('synthesizes the alerts and the records they join on (snapshot)', async () => {
    const s = synth(chartWithJobs());
    await expect(Yaml.stringify(s.find('PrometheusRule', 'pushgateway-rules'))).toMatchFileSnapshot('__snapshots__/batch-job-alerts.k8s.yaml');
    const rule = s.find('PrometheusRule', 'pushgateway-rules');
    expect(rule.metadata.namespace).toBe('monitoring');
    expect(Object.keys(rules(rule)).sort()).toEqual([
      'BatchCronJobNoRecentSuccess', 'BatchJobBadTimestamp', 'BatchJobDurationHigh', 'BatchJobFailure', 'BatchJobNotRunning', 'BatchJobPushFailed',
      'BatchJobRunningTooLong', 'PushgatewayDown', 'PushgatewayNearCapacity', 'PushgatewayPushesRejected',
    ]);
  });

  it('has the same alert rules for one job or a thousand: the jobs live in the registry\'s PrometheusRule', () => {
    const few = synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules');
    const many = new BatchMonitoringChart(new App(), 'test', { alerts: { runbookBaseUrl: RUNBOOKS }, cleanupEnabled: false });
    for (let i = 0; i < 50; i++) many.addJob({ name: `job-${i}`, interval: Duration.minutes(10 + i), maxDuration: Duration.minutes(1) });
    expect(synth(many).find('PrometheusRule', 'pushgateway-rules')).toEqual(few);
    expect(few.spec.groups.map((g: any) => g.name)).toEqual(['monitoring.pushgateway.pushgateway', 'monitoring.pushgateway.jobs']);
  });

  it('joins the job alerts on the registry\'s series, with no job name or threshold in the expressions', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'));
    for (const alert of ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning']) {
      const expr: string = r[alert][0].expr;
      expect(expr).toContain('batch_job:info{pushgateway="monitoring/pushgateway"}');
      expect(expr).toContain('* on (job) group_left ()');
      expect(expr).not.toMatch(/daily-backup|\b93600\b|\b600\b/);
      expect(r[alert][0].labels).toBeUndefined();
    }
    expect(r.BatchJobNotRunning[0].expr).toContain('batch_job:threshold_seconds{pushgateway="monitoring/pushgateway",threshold="deadline"}');
    expect(r.BatchJobNotRunning[0].expr).toContain('max by (job) (batch_job:declared_timestamp_seconds{pushgateway="monitoring/pushgateway"}) unless on (job)');
    expect(r.BatchJobDurationHigh[0].annotations.description).toContain('printf "batch_job:threshold_seconds{pushgateway=%q,job=%q,threshold=\\"max_duration\\"}" "monitoring/pushgateway" $labels.job | query');
  });

  it('has no range selector whose window depends on a job\'s interval', () => {
    const rule = synth(chartWithJobs({ alerts: { scrapeGapTolerance: Duration.minutes(3) } })).find('PrometheusRule', 'pushgateway-rules');
    const ranges = [...JSON.stringify(rule.spec).matchAll(/\[(\w+)(?::(\w+))?\]/g)];
    // Windows: the scrape gap tolerance, the records' memory, the outage window and the rejected-push
    // window. Subquery steps: a twelfth of the gap tolerance and of the memory (at most 4m).
    expect([...new Set(ranges.map((m) => m[1]))].sort()).toEqual(['15s', '1h', '3m', '4m', '5m']);
    expect([...new Set(ranges.filter((m) => m[2]).map((m) => `${m[1]}:${m[2]}`))].sort()).toEqual(['1h:4m', '3m:15s']);
  });

  it('takes the newest push across groups and replicas: no target label of a replica reaches a job alert', () => {
    const r = records(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'));
    // Per wrapped container (one series for a job without `batch_container`), then per job.
    for (const name of ['batch_job:last_push_timestamp_seconds', 'batch_job:last_run_success', 'batch_job:last_run_duration_seconds', 'batch_job:last_run_exit_code']) {
      expect(r[name][0].expr, name).toMatch(/^(max|min) by \(job, batch_container\) \(/);
      expect(r[name][0].labels).toEqual({ pushgateway: 'monitoring/pushgateway' });
    }
    const lastSuccess = r['batch_job:last_success_timestamp_seconds'][0].expr;
    expect(lastSuccess).toMatch(/^max by \(job\) \(\n {2}min by \(job\) \(\n {4}max by \(job, batch_container\) \(/);
    // Remembered, aggregated on reading back, never past now.
    expect(lastSuccess).toContain('max by (job) (last_over_time(batch_job:last_success_timestamp_seconds{pushgateway="monitoring/pushgateway"}[4m]) '
      + 'or last_over_time(batch_job:last_success_timestamp_seconds{pushgateway="monitoring/pushgateway"}[1h:4m])) <= time() + 300 and on (job) batch_job:info');
    // A success's time is its push's, not a start push's; a pushed timestamp counts up to 5 minutes past its push.
    expect(lastSuccess).toContain('push_time_seconds{namespace="monitoring",service="pushgateway"} and batch_job_success{namespace="monitoring",service="pushgateway"} == 1 '
      + 'unless batch_job_running{namespace="monitoring",service="pushgateway"} == 1');
    expect(lastSuccess).toContain('batch_job_last_success_timestamp_seconds{namespace="monitoring",service="pushgateway"} > 0 <= push_time_seconds{namespace="monitoring",service="pushgateway"} + 300');
  });

  it('scopes the gateway alerts to the Pushgateway\'s scrape job and namespace, and adds PushgatewayReplicaDown with replicas', () => {
    const chart = new BatchMonitoringChart(new App(), 'test', { namespace: 'batch', pushgateway: { name: 'pgw' }, cleanupEnabled: false });
    const r = rules(synth(chart).find('PrometheusRule', 'pgw-rules'));
    expect(r.PushgatewayDown[0].expr).toBe('max by (namespace, job) (up{job="pgw",namespace="batch"}) == 0\nor\nabsent(up{job="pgw",namespace="batch"})');
    expect(r.PushgatewayPushesRejected[0].expr).toContain('pushgateway_http_requests_total{job="pgw",namespace="batch",handler="push",code=~"4.."}');
    expect(r.BatchJobPushFailed[0].expr).toContain('push_failure_time_seconds{namespace="batch",service="pgw"}');
    expect(r.PushgatewayDown[0].annotations.summary).toBe('Pushgateway batch/pgw is down');
    expect(r.PushgatewayReplicaDown).toBeUndefined();
    const ha = new BatchMonitoringChart(new App(), 'test', { namespace: 'batch', pushgateway: { name: 'pgw', replicas: 3, persistence: false }, cleanupEnabled: false });
    const down = rules(synth(ha).find('PrometheusRule', 'pgw-rules')).PushgatewayReplicaDown[0];
    expect(down.expr).toBe('count by (namespace, job) (up{job="pgw",namespace="batch"} == 1) < 3');
    expect(down.labels).toEqual({ severity: 'warning' });
  });

  it('gives the fixed alerts their severity as a rule label; the job alerts take theirs from the declaration', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'));
    expect(r.PushgatewayDown[0].labels).toEqual({ severity: 'critical' });
    expect(r.PushgatewayPushesRejected[0].labels).toEqual({ severity: 'warning' });
    expect(r.PushgatewayNearCapacity[0].expr).toContain('count by (namespace, pod) (push_time_seconds{namespace="monitoring",service="pushgateway"}) / 10000');
    expect(r.PushgatewayNearCapacity[0].expr).toContain('max by (namespace, pod) (process_resident_memory_bytes{job="pushgateway",namespace="monitoring"})');
    expect(r.PushgatewayNearCapacity[0].expr).toContain('kube_pod_container_resource_limits{job="kube-state-metrics",namespace="monitoring",resource="memory",container="pushgateway"}');
    expect(r.PushgatewayNearCapacity[0]).toMatchObject({ for: '15m', labels: { severity: 'warning' } });
    expect(r.BatchJobPushFailed[0].labels).toEqual({ severity: 'warning' });
    expect(r.BatchJobFailure[0].expr).toContain('label_replace(batch_job:info{pushgateway="monitoring/pushgateway"}, "severity", "$1", "failure_severity", "(.+)")');
    expect(r.BatchJobFailure[0].expr).toMatch(/^max without \(pushgateway, job_registry, cronjob, failure_severity, duration_high_severity, not_running_severity\) \(/);
  });

  it('shows values in their units: durations humanized as durations, times as timestamps, never the success gauge', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'));
    expect(r.BatchJobFailure[0].annotations.description).toContain('pushed a failure at {{ .Value | humanizeTimestamp }}');
    expect(r.BatchJobFailure[0].annotations.description).toContain(': exited {{ . | first | value }}');
    expect(r.BatchJobDurationHigh[0].annotations.description).toContain('{{ $value | humanizeDuration }}');
    expect(r.BatchJobNotRunning[0].annotations.description).toContain('{{ $value | humanizeDuration }}');
    expect(r.BatchJobPushFailed[0].annotations.description).toContain('{{ $value | humanizeTimestamp }}');
  });

  it('links every alert to its runbook section when a base URL is given, and not otherwise', () => {
    const withUrl = rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'));
    for (const [name, list] of Object.entries(withUrl)) {
      for (const rule of list) expect(rule.annotations.runbook_url).toBe(`${RUNBOOKS}#${name.toLowerCase()}`);
    }
    const { chart, alerts } = standalone();
    alerts.addJob(DAILY);
    for (const list of Object.values(rules(synth(chart).find('PrometheusRule', 'pushgateway-rules')))) {
      for (const rule of list) expect(rule.annotations?.runbook_url).toBeUndefined();
    }
  });

  it('links every alert to the dashboard when a Grafana URL is given: the job alerts with the job selected, in the chart\'s dashboard uid', () => {
    const chart = chartWithJobs({ alerts: { dashboardBaseUrl: 'https://grafana.example.com/' }, dashboard: { uid: 'team-batch' } });
    const r = rules(synth(chart).find('PrometheusRule', 'pushgateway-rules'));
    const jobAlerts = ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobRunningTooLong', 'BatchJobNotRunning', 'BatchJobBadTimestamp', 'BatchJobPushFailed'];
    for (const [name, list] of Object.entries(r)) {
      expect(list[0].annotations.dashboard_url, name).toBe(jobAlerts.includes(name)
        ? 'https://grafana.example.com/d/team-batch?var-job={{ $labels.job | urlquery }}'
        : 'https://grafana.example.com/d/team-batch');
    }
    expect(Object.values(rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules'))).flat()
      .filter((rule) => rule.annotations?.dashboard_url)).toEqual([]);
  });

  it('labels the PrometheusRule like kube-prometheus rules, or with the release for kube-prometheus-stack', () => {
    const kp = synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules');
    expect(kp.metadata.labels).toMatchObject({ 'prometheus': 'k8s', 'role': 'alert-rules', 'app.kubernetes.io/name': 'pushgateway', 'app.kubernetes.io/part-of': 'batch-monitoring' });
    const stack = synth(chartWithJobs({ flavour: KubePrometheusFlavour.kubePrometheusStack({ release: 'kps' }) })).find('PrometheusRule', 'pushgateway-rules');
    expect(stack.metadata.labels).toMatchObject({ release: 'kps' });
    expect(stack.metadata.labels.prometheus).toBeUndefined();
  });

  it('takes for durations from props; zero leaves `for` out', () => {
    const { chart, alerts } = standalone({ forDurations: { failure: Duration.seconds(0), pushgatewayDown: Duration.minutes(1) }, scrapeGapTolerance: Duration.minutes(3) });
    alerts.addJob(DAILY);
    const r = rules(synth(chart).find('PrometheusRule', 'pushgateway-rules'));
    expect(r.BatchJobFailure[0].for).toBeUndefined();
    expect(r.PushgatewayDown[0].for).toBe('1m');
    expect(r.BatchJobNotRunning[0].for).toBe('5m');
    const jobRecords = records(synth(chart).find('PrometheusRule', 'pushgateway-rules'));
    expect(jobRecords['batch_job:last_run_success'][0].expr).toContain('[3m:15s]');
  });

  it('gives two BatchJobAlerts in one chart distinct objects and group names', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'monitoring' });
    const a = new BatchJobAlerts(chart, 'A', { pushgateway: new Pushgateway(chart, 'PA', { name: 'pgw-a' }) });
    const b = new BatchJobAlerts(chart, 'B', { pushgateway: new Pushgateway(chart, 'PB', { name: 'pgw-b' }) });
    a.addJob(DAILY);
    b.addJob(DAILY);
    const s = synth(chart);
    const names = s.all('PrometheusRule').flatMap((r) => r.spec.groups.map((g: any) => g.name));
    expect(new Set(names).size).toBe(names.length);
    expect(s.all('PrometheusRule').map((r) => r.metadata.name).sort()).toEqual(['pgw-a-jobs', 'pgw-a-rules', 'pgw-b-jobs', 'pgw-b-rules']);
  });

  describe('validation', () => {
    it('fails on a runbook base URL that is not http(s), has a fragment or a template', () => {
      expect(() => standalone({ runbookBaseUrl: 'docs/runbooks.md' })).toThrow(/invalid runbookBaseUrl "docs\/runbooks.md": use the http\(s\) URL/);
      expect(() => standalone({ runbookBaseUrl: 'ftp://x/runbooks.md' })).toThrow(/invalid runbookBaseUrl/);
      expect(() => standalone({ runbookBaseUrl: 'https://x/runbooks.md#top' })).toThrow(/without a "#fragment"/);
      expect(() => standalone({ runbookBaseUrl: 'https://x/{{ $labels.job }}' })).toThrow(/invalid runbookBaseUrl/);
    });

    it('fails on a dashboard base URL that is not http(s), has a query, a fragment or a template, or on a bad dashboard uid', () => {
      expect(() => standalone({ dashboardBaseUrl: 'grafana.example.com' })).toThrow(/invalid dashboardBaseUrl "grafana.example.com": use the http\(s\) URL Grafana is served at/);
      expect(() => standalone({ dashboardBaseUrl: 'https://grafana.example.com/#x' })).toThrow(/invalid dashboardBaseUrl/);
      expect(() => standalone({ dashboardBaseUrl: 'https://grafana.example.com/?orgId=1' })).toThrow(/leave out the "\?query"/);
      expect(() => standalone({ dashboardBaseUrl: 'https://grafana.example.com/{{ x }}' })).toThrow(/invalid dashboardBaseUrl/);
      expect(() => standalone({ dashboardBaseUrl: 'https://grafana.example.com', dashboardUid: 'a b' })).toThrow(/invalid dashboardUid "a b"/);
    });

    it('fails on a zero scrape gap tolerance', () => {
      expect(() => standalone({ scrapeGapTolerance: Duration.seconds(0) })).toThrow(/invalid scrapeGapTolerance/);
    });

    it('fails on an invalid name', () => {
      expect(() => standalone({ name: 'Batch_Jobs' })).toThrow(/invalid name "Batch_Jobs"/);
    });

    it('fails when two BatchJobAlerts would write the same PrometheusRule', () => {
      const chart = new Chart(new App(), 'test', { namespace: 'monitoring' });
      const pushgateway = new Pushgateway(chart, 'Pushgateway');
      new BatchJobAlerts(chart, 'A', { pushgateway });
      expect(() => new BatchJobAlerts(chart, 'B', { pushgateway }))
        .toThrow(/test\/B: invalid name "pushgateway": another BatchJobAlerts already defines PrometheusRule monitoring\/pushgateway-rules/);
    });
  });

  it('watches the declared CronJobs through kube-state-metrics, joined on namespace and name', () => {
    const rule = rules(synth(chartWithJobs()).find('PrometheusRule', 'pushgateway-rules')).BatchCronJobNoRecentSuccess[0];
    expect(rule.expr).toContain('kube_cronjob_status_last_successful_time{job="kube-state-metrics"}');
    expect(rule.expr).toContain('> on (namespace, cronjob) batch_cronjob:deadline_seconds{pushgateway="monitoring/pushgateway"}');
    expect(rule.expr).toContain('unless on (namespace, cronjob) kube_cronjob_spec_suspend{job="kube-state-metrics"} == 1');
  });

  it('declares jobs and CronJobs added to it to its own registry when it has none', () => {
    const { chart, alerts } = standalone();
    alerts.addJob(DAILY);
    alerts.addCronJob({ name: 'nightly-report', namespace: 'reports', interval: Duration.hours(24) });
    expect(alerts.jobs).toEqual(['daily-backup']);
    expect(alerts.registry.cronJobs.map((c) => c.name)).toEqual(['nightly-report']);
    const declared = declaredSeries([synth(chart).find('PrometheusRule', 'pushgateway-jobs')]);
    expect(declared.filter((d) => d.record === 'batch_job:info').map((d) => d.labels.job)).toEqual(['daily-backup']);
    expect(declared.filter((d) => d.record === 'batch_cronjob:deadline_seconds').map((d) => d.labels.cronjob)).toEqual(['nightly-report']);
  });
});
