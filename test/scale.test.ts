import { App, Chart, Cron, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchMonitoringChart, MonitoredCronJob } from '../lib';
import { declaredSeries } from './helpers/declarations';
import { synth } from './helpers/synth';

// `kubectl apply` (client side) stores the object as JSON in the
// kubectl.kubernetes.io/last-applied-configuration annotation; annotations may total 256 KiB.
const CLIENT_SIDE_APPLY_LIMIT = 256 * 1024;

/**
 * A chart with `count` jobs. `distinct`: every job its own interval, grace and max duration (the
 * worst case for anything that would write thresholds into its queries); otherwise the jobs share
 * a few common schedules, as real fleets do.
 */
function chartWith(count: number, opts: { order?: 'forward' | 'reverse'; distinct?: boolean } = {}): BatchMonitoringChart {
  const chart = new BatchMonitoringChart(new App(), 'scale', {
    alerts: { runbookBaseUrl: 'https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md' },
  });
  const indexes = Array.from({ length: count }, (_, i) => i);
  if (opts.order === 'reverse') indexes.reverse();
  for (const i of indexes) {
    const name = `job-${String(i).padStart(4, '0')}`;
    const labels = { team: `team-${i % 10}` };
    if (opts.distinct) {
      chart.addJob({ name, interval: Duration.minutes(15 + i), grace: Duration.seconds(60 + i), maxDuration: Duration.seconds(60 + i), labels });
    } else {
      chart.addJob({ name, interval: Duration.minutes([15, 60, 360, 1440][i % 4]), maxDuration: Duration.minutes(1 + (i % 7) * 2), labels });
    }
  }
  return chart;
}

function sizes(object: any): { json: number; yaml: number; what: string } {
  const json = Buffer.byteLength(JSON.stringify(object));
  const yaml = Buffer.byteLength(Yaml.stringify(object));
  return { json, yaml, what: `${object.kind} ${object.metadata.name}: ${json} bytes of JSON, ${yaml} of YAML` };
}

describe('a thousand jobs', () => {
  const chart = chartWith(1000);
  const s = synth(chart);
  const groupsOf = (rule: any) => rule.spec.groups.map((g: any) => g.name);
  const rules = s.all('PrometheusRule');

  it('keeps every object under the 256 KiB client-side apply annotation limit (so also under 1 MiB)', () => {
    for (const object of s.objects) {
      const { json, yaml, what } = sizes(object);
      expect(json, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
      expect(yaml, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
    }
  });

  it('keeps every object under 256 KiB when every job has thresholds of its own', () => {
    const distinct = synth(chartWith(1000, { distinct: true }));
    for (const object of distinct.objects) {
      const { json, yaml, what } = sizes(object);
      expect(json, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
      expect(yaml, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
    }
  });

  it('splits the job declarations over several PrometheusRules that declare every job exactly once; the alerts stay one', () => {
    const declarations = rules.filter((r) => r.metadata.name.startsWith('pushgateway-jobs'));
    expect(declarations.length).toBeGreaterThan(1);
    expect(chart.registry.rules.map((r) => r.name)).toEqual(declarations.map((r) => r.metadata.name));
    expect(declarations.map((r) => r.metadata.name)).toEqual(
      declarations.map((_, i) => (i === 0 ? 'pushgateway-jobs' : `pushgateway-jobs-${i + 1}`)));
    expect(chart.alerts.rules.map((r) => r.name)).toEqual(['pushgateway-rules']);
    const names: string[] = declarations.flatMap(groupsOf);
    expect(names).toEqual(declarations.map((_, i) => (i === 0 ? 'monitoring.pushgateway.declarations' : `monitoring.pushgateway.declarations-${i + 1}`)));
    const jobs = declaredSeries(declarations).filter((d) => d.record === 'batch_job:info').map((d) => d.labels.job);
    // The jobs, and the cleanup's own job.
    expect(jobs.filter((j) => j.startsWith('job-'))).toEqual(Array.from({ length: 1000 }, (_, i) => `job-${String(i).padStart(4, '0')}`));
    for (const rule of declarations) expect(rule.metadata.labels).toEqual(declarations[0].metadata.labels);
  });

  it('keeps the dashboard ConfigMap at 1000 jobs with all-different thresholds within 1.5x its size at 10 jobs', () => {
    const dashboard = (c: BatchMonitoringChart) => synth(c).find('ConfigMap', 'grafana-dashboard-batch-jobs');
    const ten = sizes(dashboard(chartWith(10, { distinct: true })));
    const thousand = sizes(dashboard(chartWith(1000, { distinct: true })));
    expect(thousand.json, `${thousand.what} against ${ten.what}`).toBeLessThanOrEqual(1.5 * ten.json);
    expect(thousand.yaml).toBeLessThanOrEqual(1.5 * ten.yaml);
  });

  it('synthesizes the same bytes, and the same split, whatever the order of addJob calls', () => {
    expect(synth(chartWith(1000, { order: 'reverse' })).yaml).toBe(s.yaml);
  });
});

// Grafana Mimir's ruler defaults (per tenant): `-ruler.max-rule-groups-per-tenant` and `-ruler.max-rules-per-rule-group`.
const MIMIR_GROUPS = 70;
const MIMIR_RULES_PER_GROUP = 20;

describe('a thousand jobs on a ruler with Mimir\'s default limits', () => {
  // A third each hourly, daily and weekly; one in ten run by a MonitoredCronJob in a team's
  // namespace, the others declared with addJob in five namespaces.
  const app = new App();
  const chart = new BatchMonitoringChart(app, 'fleet', { cleanup: { maxAge: Duration.days(14) } });
  const INTERVALS = [Duration.hours(1), Duration.days(1), Duration.days(7)];
  const SCHEDULES = [Cron.hourly(), Cron.daily(), Cron.weekly()];
  for (let i = 0; i < 1000; i++) {
    const name = `job-${String(i).padStart(4, '0')}`;
    const interval = INTERVALS[i % 3];
    if (i % 10 === 0) {
      const team = new Chart(app, `team-${i}`, { namespace: `team-${i % 4}` });
      new MonitoredCronJob(team, 'Job', {
        monitoring: chart, jobName: name, interval, maxDuration: Duration.minutes(30), schedule: SCHEDULES[i % 3],
        containers: [{ name: 'main', image: 'docker.io/library/alpine:3.20', command: ['true'] }],
      });
    } else {
      chart.addJob({ name, namespace: `ns-${i % 5}`, interval, maxDuration: Duration.minutes(30), labels: { team: `team-${i % 10}` } });
    }
  }
  const s = synth(chart);
  const groups = s.all('PrometheusRule').flatMap((r) => r.spec.groups);

  it(`needs at most ${MIMIR_GROUPS} rule groups of at most ${MIMIR_RULES_PER_GROUP} rules`, () => {
    expect(groups.length).toBeLessThanOrEqual(MIMIR_GROUPS);
    for (const group of groups) expect(group.rules.length, group.name).toBeLessThanOrEqual(MIMIR_RULES_PER_GROUP);
    // No group per job or per CronJob: a handful for a thousand jobs.
    expect(groups.length).toBeLessThan(10);
  });

  it('declares every job and every CronJob once', () => {
    const declared = declaredSeries(s.objects);
    // The thousand jobs and the cleanup's own.
    expect(declared.filter((d) => d.record === 'batch_job:info')).toHaveLength(1001);
    expect(declared.filter((d) => d.record === 'batch_job:threshold_seconds')).toHaveLength(3 * 1001);
    const cron = declared.filter((d) => d.record === 'batch_job:info' && d.labels.cronjob);
    expect(cron).toHaveLength(100);
    expect(cron.find((d) => d.labels.job === 'job-0010')!.labels).toMatchObject({ cronjob: 'job-0010', namespace: 'team-2' });
    expect(declared.filter((d) => d.record === 'batch_cronjob:deadline_seconds')).toHaveLength(100);
  });

  it('keeps every object under 256 KiB', () => {
    for (const object of s.objects) {
      const { json, yaml, what } = sizes(object);
      expect(json, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
      expect(yaml, what).toBeLessThan(CLIENT_SIDE_APPLY_LIMIT);
    }
  });
});
