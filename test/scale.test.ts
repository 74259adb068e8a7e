import { App, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchMonitoringChart } from '../lib';
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

  it('splits the job declarations over several PrometheusRules that hold every job group exactly once; the alerts stay one', () => {
    const declarations = rules.filter((r) => r.metadata.name.startsWith('pushgateway-jobs'));
    expect(declarations.length).toBeGreaterThan(1);
    expect(chart.registry.rules.map((r) => r.name)).toEqual(declarations.map((r) => r.metadata.name));
    expect(declarations.map((r) => r.metadata.name)).toEqual(
      declarations.map((_, i) => (i === 0 ? 'pushgateway-jobs' : `pushgateway-jobs-${i + 1}`)));
    expect(chart.alerts.rules.map((r) => r.name)).toEqual(['pushgateway-rules']);
    const names: string[] = declarations.flatMap(groupsOf);
    expect(new Set(names).size).toBe(names.length);
    const jobGroups = names.filter((n) => n.startsWith('monitoring.pushgateway.job.job-'));
    expect(jobGroups.sort()).toEqual(Array.from({ length: 1000 }, (_, i) => `monitoring.pushgateway.job.job-${String(i).padStart(4, '0')}`));
    for (const rule of declarations) {
      expect(rule.metadata.labels).toEqual(declarations[0].metadata.labels);
      expect(groupsOf(rule)).toEqual([...groupsOf(rule)].sort());
    }
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
