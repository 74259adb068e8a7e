import { App, Chart, Cron, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, BatchJob, JobRegistry, MonitoredCronJob, Pushgateway } from '../lib';
import { declaredSeries } from './helpers/declarations';
import { synth } from './helpers/synth';

const DAILY: BatchJob = { name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) };
const HOURLY: BatchJob = { name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) };

/** A team's own app: no monitoring chart, a Pushgateway deployed elsewhere. */
function teamApp() {
  const chart = new Chart(new App(), 'team', { namespace: 'reports' });
  const pushgateway = Pushgateway.fromPushgatewayAttributes(chart, 'Pushgateway', { name: 'pushgateway', namespace: 'monitoring' });
  const registry = new JobRegistry(chart, 'Jobs', { pushgateway });
  return { chart, pushgateway, registry };
}

describe('JobRegistry', () => {
  it('publishes each job once as constant series: its alert labels, its thresholds, and when it was declared (snapshot)', async () => {
    const { chart, registry } = teamApp();
    registry.addJob({ ...DAILY, labels: { team: 'bi' } });
    // A name that label_replace would expand (`$1`) and PromQL would need quoted.
    registry.addJob({ ...HOURLY, name: 'we"ird$1', namespace: 'etl' });
    const s = synth(chart);
    const rule = s.find('PrometheusRule', 'pushgateway-jobs');
    await expect(Yaml.stringify(rule)).toMatchFileSnapshot('__snapshots__/job-registry.k8s.yaml');
    // The library's own labels, not the Pushgateway's (which lives in another app).
    expect(rule.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'batch-monitoring', 'app.kubernetes.io/component': 'job-registry', 'app.kubernetes.io/part-of': 'batch-monitoring',
      'prometheus': 'k8s', 'role': 'alert-rules',
    });
    const own = { job: 'daily-backup', pushgateway: 'monitoring/pushgateway' };
    const of = (job: string) => declaredSeries(s.objects).filter((d) => d.labels.job === job);
    expect(of('daily-backup')).toEqual([
      {
        record: 'batch_job:info',
        value: 1,
        labels: {
          // The team app's namespace, not the Pushgateway's.
          ...own, namespace: 'reports', team: 'bi', job_registry: 'reports/pushgateway-jobs',
          failure_severity: 'critical', duration_high_severity: 'warning', not_running_severity: 'critical',
        },
      },
      // 24h, plus the default grace of 2h (a quarter, capped), and 5m.
      { record: 'batch_job:threshold_seconds', value: 86400, labels: { ...own, threshold: 'interval' } },
      { record: 'batch_job:threshold_seconds', value: 93600, labels: { ...own, threshold: 'deadline' } },
      { record: 'batch_job:threshold_seconds', value: 300, labels: { ...own, threshold: 'max_duration' } },
    ]);
    expect(of('we"ird$1').map((d) => d.labels.job)).toEqual(['we"ird$1', 'we"ird$1', 'we"ird$1', 'we"ird$1']);
    // One group; one rule per kind of series, whatever the number of jobs; the declaration times last.
    expect(rule.spec.groups).toHaveLength(1);
    expect(rule.spec.groups[0]).toMatchObject({ name: 'reports.pushgateway.declarations', interval: '2m' });
    const rules = rule.spec.groups[0].rules;
    expect(rules.map((r: any) => r.record)).toEqual([
      'batch_job:info', 'batch_job:threshold_seconds', 'batch_job:threshold_seconds', 'batch_job:threshold_seconds', 'batch_job:declared_timestamp_seconds',
    ]);
    // Read back aggregated to one series per job, so labels a ruler adds are not copied.
    const self = 'batch_job:declared_timestamp_seconds{pushgateway="monitoring/pushgateway"}';
    expect(rules[4].expr).toContain(`max by (job) ((last_over_time(${self}[4m]) or last_over_time(${self}[1h:4m])))`);
    expect(rules[4].expr).toContain('batch_job:info{pushgateway="monitoring/pushgateway",job_registry="reports/pushgateway-jobs"}');
  });

  it('renders at synthesis and never changes what a synthesized object holds', () => {
    const { chart, registry } = teamApp();
    registry.addJob(DAILY);
    const before = synth(chart).find('PrometheusRule', 'pushgateway-jobs');
    const held = JSON.stringify(before);
    registry.addJob(HOURLY);
    expect(JSON.stringify(before)).toBe(held);
    const after = synth(chart).find('PrometheusRule', 'pushgateway-jobs');
    expect(declaredSeries([after]).filter((d) => d.record === 'batch_job:info').map((d) => d.labels.job)).toEqual(['daily-backup', 'data-processing']);
  });

  it('resolves every default once: grace, deadline, namespace and severities', () => {
    const { registry } = teamApp();
    const job = registry.addJob(HOURLY);
    expect(job.grace.toSeconds()).toBe(900);
    expect(job.deadline.toSeconds()).toBe(4500);
    // The namespace of the registry's chart (the team's), not the Pushgateway's.
    expect(job.namespace).toBe('reports');
    expect(job.severities).toEqual({ failure: 'critical', durationHigh: 'warning', notRunning: 'critical' });
    expect(registry.addJob({ ...DAILY, namespace: 'reports', grace: Duration.minutes(30) }).deadline.toHumanString()).toBe('1 day 30 minutes');
  });

  it('wires a MonitoredCronJob of an app without the monitoring chart to a Pushgateway deployed elsewhere', () => {
    const { chart, registry } = teamApp();
    new MonitoredCronJob(chart, 'Report', {
      registry, jobName: 'nightly-report', interval: Duration.hours(24), maxDuration: Duration.minutes(30), schedule: Cron.daily(),
      containers: [{ name: 'report', image: 'docker.io/library/alpine:3.20', command: ['true'], securityContext: { user: 65534, group: 65534 } }],
    });
    const s = synth(chart);
    const env = s.find('CronJob').spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' });
    const declared = declaredSeries(s.objects);
    // The job's alerts carry the CronJob's namespace; its info names the CronJob that kube-state-metrics watches.
    expect(declared.find((d) => d.record === 'batch_job:info')!.labels).toMatchObject({ job: 'nightly-report', namespace: 'reports', cronjob: 'nightly-report' });
    // Declared at the first load of its rules, or at its CronJob's creation if that is later.
    const rules = s.find('PrometheusRule', 'pushgateway-jobs').spec.groups[0].rules;
    expect(rules.find((r: any) => r.record === 'batch_job:declared_timestamp_seconds').expr)
      .toContain('* on (namespace, cronjob) group_left () max by (namespace, cronjob) (kube_cronjob_created)');
    expect(declared.find((d) => d.record === 'batch_cronjob:deadline_seconds')).toEqual({
      record: 'batch_cronjob:deadline_seconds', value: 93600,
      labels: { pushgateway: 'monitoring/pushgateway', namespace: 'reports', cronjob: 'nightly-report', severity: 'warning' },
    });
    // No alert rules and no dashboard: the Pushgateway's own app has them, generic over every declared job.
    expect(s.all('PrometheusRule').map((r) => r.metadata.name)).toEqual(['pushgateway-jobs']);
    expect(s.all('ConfigMap').filter((c) => c.metadata.name.startsWith('grafana-dashboard'))).toEqual([]);
  });

  it('does not depend on the order jobs are declared in', () => {
    const one = teamApp();
    one.registry.addJob(DAILY);
    one.registry.addJob(HOURLY);
    const two = teamApp();
    two.registry.addJob(HOURLY);
    two.registry.addJob(DAILY);
    expect(synth(one.chart).yaml).toBe(synth(two.chart).yaml);
  });

  it('refuses two jobs of one namespace with different severities for one alert, naming the Alertmanager inhibition', () => {
    const { registry } = teamApp();
    registry.addJob({ ...DAILY, namespace: 'reports' });
    expect(() => registry.addJob({ ...HOURLY, namespace: 'reports', severities: { failure: AlertSeverity.WARNING } })).toThrow(
      /^team\/Jobs: invalid severities.failure of job "data-processing" "warning": job "daily-backup" in namespace "reports" has BatchJobFailure at critical, and kube-prometheus's Alertmanager inhibits warning and info alerts while a critical alert with the same namespace and alertname fires/);
    // In another namespace the same severities are fine.
    registry.addJob({ ...HOURLY, namespace: 'etl', severities: { failure: AlertSeverity.WARNING } });
  });

  it('fails on a job declared twice, an invalid name, namespace or reserved label', () => {
    const { registry } = teamApp();
    registry.addJob(DAILY);
    expect(() => registry.addJob(DAILY)).toThrow(/team\/Jobs: invalid job name "daily-backup": each job is declared once/);
    expect(() => registry.addJob({ ...HOURLY, name: 'a{{ b }}' })).toThrow(/without "\{\{"/);
    expect(() => registry.addJob({ ...HOURLY, namespace: 'Reports' })).toThrow(/invalid namespace of job "data-processing" "Reports"/);
    for (const label of ['namespace', 'pushgateway', 'threshold', 'failure_severity', 'cronjob']) {
      expect(() => registry.addJob({ ...HOURLY, labels: { [label]: 'x' } }), label).toThrow(/invalid label name of job "data-processing"/);
    }
  });

  it('fails on an invalid Pushgateway attribute', () => {
    const chart = new Chart(new App(), 'team', { namespace: 'reports' });
    expect(() => Pushgateway.fromPushgatewayAttributes(chart, 'P', { name: 'pushgateway', namespace: 'monitoring', replicas: 2 }))
      .toThrow(/team\/P: invalid replicaUrls \["http:\/\/pushgateway.monitoring.svc:9091"\]: give one URL per replica \(2\)/);
    expect(() => Pushgateway.fromPushgatewayAttributes(chart, 'Q', { name: 'pushgateway', namespace: 'monitoring', scheme: 'ftp' }))
      .toThrow(/invalid scheme "ftp"/);
  });
});
