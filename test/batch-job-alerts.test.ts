import { App, Chart, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, BatchJob, BatchJobAlerts, BatchMonitoringChart, KubePrometheusFlavour, Pushgateway } from '../lib';
import { synth } from './helpers/synth';

const RUNBOOKS = 'https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md';
const DAILY: BatchJob = { name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) };
const HOURLY: BatchJob = { name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) };

function chartWithJobs(props: ConstructorParameters<typeof BatchMonitoringChart>[2] = {}) {
  const chart = new BatchMonitoringChart(new App(), 'test', { alerts: { runbookBaseUrl: RUNBOOKS }, cleanupEnabled: false, ...props });
  chart.addJob(DAILY);
  chart.addJob(HOURLY);
  chart.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
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
  for (const group of rule.spec.groups) for (const r of group.rules) (out[r.alert] ??= []).push({ ...r, group: group.name });
  return out;
}

describe('BatchJobAlerts', () => {
  it('synthesizes the six alerts for the example jobs (snapshot)', async () => {
    const s = synth(chartWithJobs());
    await expect(Yaml.stringify(s.find('PrometheusRule'))).toMatchFileSnapshot('__snapshots__/batch-job-alerts.k8s.yaml');
    const rule = s.find('PrometheusRule', 'pushgateway-rules');
    expect(rule.metadata.namespace).toBe('monitoring');
    expect(Object.keys(rules(rule)).sort()).toEqual([
      'BatchJobDurationHigh', 'BatchJobFailure', 'BatchJobNotRunning', 'BatchJobPushFailed', 'PushgatewayDown', 'PushgatewayPushesRejected',
    ]);
  });

  it('has one rule group per job plus one for the Pushgateway, sorted by name', () => {
    const rule = synth(chartWithJobs()).find('PrometheusRule');
    expect(rule.spec.groups.map((g: any) => g.name)).toEqual([
      'monitoring.pushgateway.job.daily-backup',
      'monitoring.pushgateway.job.data-processing',
      'monitoring.pushgateway.job.log-cleanup',
      'monitoring.pushgateway.pushgateway',
    ]);
    for (const group of rule.spec.groups.slice(0, 3)) {
      expect(group.rules.map((r: any) => r.alert)).toEqual(['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning']);
    }
  });

  it('uses each job\'s own thresholds: max duration in seconds, interval plus default grace as window and limit', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule'));
    const duration = r.BatchJobDurationHigh.find((x) => x.labels.job === 'data-processing');
    expect(duration.expr).toMatch(/\n> 600$/);
    expect(duration.annotations.description).toContain('longer than its maximum of 10m');
    const notRunning = r.BatchJobNotRunning.find((x) => x.labels.job === 'daily-backup');
    // 24h + the default grace of 2h (a quarter of 24h, capped at 2h)
    expect(notRunning.expr).toContain('[1d2h]');
    expect(notRunning.expr).toContain('> 93600');
    expect(notRunning.expr).toContain('absent_over_time(batch_job_last_success_timestamp_seconds{job="daily-backup",namespace="monitoring",service="pushgateway"}[1d2h])');
    expect(notRunning.expr).not.toMatch(/absent\(/);
    expect(notRunning.annotations.description).toContain('every 1d (plus 2h grace)');
  });

  it('aggregates away the Pushgateway pod\'s target labels in every job expression and bridges scrape gaps', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule'));
    for (const alert of ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning']) {
      for (const rule of r[alert]) {
        expect(rule.expr).toMatch(/max by \(namespace, job\)/);
        expect(rule.expr).not.toMatch(/\b(pod|instance|endpoint|container)\b/);
      }
    }
    expect(r.BatchJobFailure[0].expr).toContain('last_over_time(batch_job_success{job="daily-backup",namespace="monitoring",service="pushgateway"}[10m]) == 0');
    expect(r.BatchJobPushFailed[0].expr).toMatch(/^max without \(pod, endpoint, service, container\) \(/);
  });

  it('scopes the gateway alerts to the Pushgateway\'s scrape job and namespace', () => {
    const chart = new BatchMonitoringChart(new App(), 'test', { namespace: 'batch', pushgateway: { name: 'pgw' }, cleanupEnabled: false });
    const r = rules(synth(chart).find('PrometheusRule', 'pgw-rules'));
    expect(r.PushgatewayDown[0].expr).toBe('min by (namespace, job) (up{job="pgw",namespace="batch"}) == 0\nor\nabsent(up{job="pgw",namespace="batch"})');
    expect(r.PushgatewayPushesRejected[0].expr).toContain('pushgateway_http_requests_total{job="pgw",namespace="batch",handler="push",code=~"4.."}');
    expect(r.BatchJobPushFailed[0].expr).toContain('push_failure_time_seconds{namespace="batch",service="pgw"}');
    expect(r.PushgatewayDown[0].annotations.summary).toBe('Pushgateway batch/pgw is down');
  });

  it('sets severities, static labels and per-job severity overrides as rule labels', () => {
    const { chart, alerts } = standalone();
    alerts.addJob({ ...HOURLY, labels: { team: 'data', namespace: 'etl' }, severities: { failure: AlertSeverity.WARNING, notRunning: AlertSeverity.INFO } });
    const r = rules(synth(chart).find('PrometheusRule'));
    expect(r.BatchJobFailure[0].labels).toEqual({ job: 'data-processing', namespace: 'etl', severity: 'warning', team: 'data' });
    expect(r.BatchJobDurationHigh[0].labels.severity).toBe('warning');
    expect(r.BatchJobNotRunning[0].labels.severity).toBe('info');
    expect(r.PushgatewayDown[0].labels).toEqual({ severity: 'critical' });
    expect(r.PushgatewayPushesRejected[0].labels).toEqual({ severity: 'warning' });
    expect(r.BatchJobPushFailed[0].labels).toEqual({ severity: 'warning' });
  });

  it('shows values in their units: durations humanized as durations, times as timestamps, never the success gauge', () => {
    const r = rules(synth(chartWithJobs()).find('PrometheusRule'));
    expect(r.BatchJobFailure[0].annotations.description).toContain('{{ $value | humanizeTimestamp }}');
    expect(r.BatchJobDurationHigh[0].annotations.description).toContain('{{ $value | humanizeDuration }}');
    expect(r.BatchJobNotRunning[0].annotations.description).toContain('{{ $value | humanizeDuration }}');
    expect(r.BatchJobPushFailed[0].annotations.description).toContain('{{ $value | humanizeTimestamp }}');
  });

  it('links every alert to its runbook section when a base URL is given, and not otherwise', () => {
    const withUrl = rules(synth(chartWithJobs()).find('PrometheusRule'));
    for (const [name, list] of Object.entries(withUrl)) {
      for (const rule of list) expect(rule.annotations.runbook_url).toBe(`${RUNBOOKS}#${name.toLowerCase()}`);
    }
    const { chart, alerts } = standalone();
    alerts.addJob(DAILY);
    for (const list of Object.values(rules(synth(chart).find('PrometheusRule')))) {
      for (const rule of list) expect(rule.annotations.runbook_url).toBeUndefined();
    }
  });

  it('labels the PrometheusRule like kube-prometheus rules, or with the release for kube-prometheus-stack', () => {
    const kp = synth(chartWithJobs()).find('PrometheusRule');
    expect(kp.metadata.labels).toMatchObject({ 'prometheus': 'k8s', 'role': 'alert-rules', 'app.kubernetes.io/name': 'pushgateway', 'app.kubernetes.io/part-of': 'batch-monitoring' });
    const stack = synth(chartWithJobs({ flavour: KubePrometheusFlavour.kubePrometheusStack({ release: 'kps' }) })).find('PrometheusRule');
    expect(stack.metadata.labels).toMatchObject({ release: 'kps' });
    expect(stack.metadata.labels.prometheus).toBeUndefined();
  });

  it('takes for durations from props; zero leaves `for` out', () => {
    const { chart, alerts } = standalone({ forDurations: { failure: Duration.seconds(0), pushgatewayDown: Duration.minutes(1) }, scrapeGapTolerance: Duration.minutes(3) });
    alerts.addJob(DAILY);
    const r = rules(synth(chart).find('PrometheusRule'));
    expect(r.BatchJobFailure[0].for).toBeUndefined();
    expect(r.PushgatewayDown[0].for).toBe('1m');
    expect(r.BatchJobNotRunning[0].for).toBe('5m');
    expect(r.BatchJobFailure[0].expr).toContain('[3m]');
  });

  it('quotes job names in PromQL so that quotes, backslashes and braces cannot break out', () => {
    const { chart, alerts } = standalone();
    const name = 'x"} or vector(1) or {a="\\';
    const group = alerts.addJob({ ...HOURLY, name });
    synth(chart); // every expr must still parse
    const expr = String((group.rules![0].expr as any).value);
    expect(expr).toContain('{job="x\\"} or vector(1) or {a=\\"\\\\",namespace="monitoring"');
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
    expect(s.all('PrometheusRule').map((r) => r.metadata.name).sort()).toEqual(['pgw-a-rules', 'pgw-b-rules']);
  });

  it('does not depend on the order jobs are added in', () => {
    const one = standalone();
    one.alerts.addJob(DAILY);
    one.alerts.addJob(HOURLY);
    const two = standalone();
    two.alerts.addJob(HOURLY);
    two.alerts.addJob(DAILY);
    expect(synth(one.chart).yaml).toBe(synth(two.chart).yaml);
  });

  describe('validation', () => {
    const add = (job: Partial<BatchJob>) => () => standalone().alerts.addJob({ ...HOURLY, ...job } as BatchJob);

    it('fails on a duplicate job', () => {
      const { alerts } = standalone();
      alerts.addJob(DAILY);
      expect(() => alerts.addJob(DAILY)).toThrow(/test\/Alerts: invalid job name "daily-backup": each job is added once/);
    });

    it('fails on a duplicate job through the chart', () => {
      const chart = chartWithJobs();
      expect(() => chart.addJob(DAILY)).toThrow(/invalid job name "daily-backup"/);
    });

    it('fails on an empty job name, a newline or a template in it', () => {
      expect(add({ name: '' })).toThrow(/invalid job name "": use the non-empty `job` label/);
      expect(add({ name: 'a\nb' })).toThrow(/invalid job name "a\\nb"/);
      expect(add({ name: 'a{{ .x }}' })).toThrow(/without "\{\{"/);
    });

    it('fails on a zero interval or max duration', () => {
      expect(add({ interval: Duration.seconds(0) })).toThrow(/invalid interval of job "data-processing" "0 seconds": use a duration greater than zero/);
      expect(add({ maxDuration: Duration.seconds(0) })).toThrow(/invalid maxDuration of job "data-processing" "0 seconds"/);
    });

    it('fails on inconsistent thresholds: a max duration longer than the interval', () => {
      expect(add({ interval: Duration.minutes(30), maxDuration: Duration.hours(1) }))
        .toThrow(/invalid maxDuration of job "data-processing" "60 minutes": a run may not take longer than the interval between runs \(30 minutes\)/);
    });

    it('fails on label names Prometheus does not accept or the rules set themselves', () => {
      expect(add({ labels: { 'team-name': 'x' } })).toThrow(/invalid label name of job "data-processing" "team-name"/);
      expect(add({ labels: { '__x': 'x' } })).toThrow(/invalid label name of job "data-processing" "__x"/);
      expect(add({ labels: { 'a"}': 'x' } })).toThrow(/invalid label name/);
      expect(add({ labels: { severity: 'page' } })).toThrow(/set the severity with `severities` instead/);
      expect(add({ labels: { job: 'x' } })).toThrow(/"job" is set by the rules themselves/);
      expect(add({ labels: { alertname: 'x' } })).toThrow(/"alertname" is set by the rules themselves/);
    });

    it('fails on label values that are empty, templates or contain newlines', () => {
      expect(add({ labels: { team: '' } })).toThrow(/invalid labels\["team"\] of job "data-processing" ""/);
      expect(add({ labels: { team: '{{ $value }}' } })).toThrow(/without "\{\{"/);
      expect(add({ labels: { team: 'a\nb' } })).toThrow(/invalid labels\["team"\]/);
    });

    it('fails on a runbook base URL that is not http(s), has a fragment or a template', () => {
      expect(() => standalone({ runbookBaseUrl: 'docs/runbooks.md' })).toThrow(/invalid runbookBaseUrl "docs\/runbooks.md": use the http\(s\) URL/);
      expect(() => standalone({ runbookBaseUrl: 'ftp://x/runbooks.md' })).toThrow(/invalid runbookBaseUrl/);
      expect(() => standalone({ runbookBaseUrl: 'https://x/runbooks.md#top' })).toThrow(/without a "#fragment"/);
      expect(() => standalone({ runbookBaseUrl: 'https://x/{{ $labels.job }}' })).toThrow(/invalid runbookBaseUrl/);
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

  it('watches a CronJob through kube-state-metrics, scoped to its namespace and name', () => {
    const { chart, alerts } = standalone();
    alerts.addCronJob({ name: 'nightly-report', namespace: 'reports', interval: Duration.hours(24), labels: { team: 'bi' } });
    const rule = rules(synth(chart).find('PrometheusRule')).BatchCronJobNoRecentSuccess[0];
    expect(rule.group).toBe('monitoring.pushgateway.cronjob.reports.nightly-report');
    expect(rule.labels).toEqual({ cronjob: 'nightly-report', severity: 'warning', team: 'bi' });
    expect(rule.expr).toContain('kube_cronjob_status_last_successful_time{job="kube-state-metrics",namespace="reports",cronjob="nightly-report"}');
    // 24h interval plus its default grace of 2h
    expect(rule.expr).toContain('> 93600');
    expect(rule.expr).toContain('unless on (namespace, cronjob) (kube_cronjob_spec_suspend{job="kube-state-metrics",namespace="reports",cronjob="nightly-report"} == 1)');
  });

  it('fails when a CronJob is added twice', () => {
    const { alerts } = standalone();
    alerts.addCronJob({ name: 'nightly-report', namespace: 'reports', interval: Duration.hours(24) });
    expect(() => alerts.addCronJob({ name: 'nightly-report', namespace: 'reports', interval: Duration.hours(24) }))
      .toThrow(/invalid cronJob "reports\/nightly-report": each CronJob is added once/);
  });

  it('fails with a CronJob name that is not a Kubernetes name', () => {
    const { alerts } = standalone();
    expect(() => alerts.addCronJob({ name: 'Nightly Report', namespace: 'reports', interval: Duration.hours(24) }))
      .toThrow(/invalid cronJob.name "Nightly Report"/);
  });
});

