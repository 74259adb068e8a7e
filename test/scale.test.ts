import { App, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchMonitoringChart } from '../lib';
import { synth } from './helpers/synth';

// etcd's default request limit is 1.5 MiB; 1 MiB leaves room for what the cluster adds.
const MIB = 1024 * 1024;
// `kubectl apply` (client side) stores the object as JSON in the
// kubectl.kubernetes.io/last-applied-configuration annotation; annotations may total 256 KiB.
const CLIENT_SIDE_APPLY_LIMIT = 256 * 1024;

/**
 * A chart with `count` jobs. `distinct`: every job its own interval, grace and max duration (the
 * worst case for the dashboard, which writes thresholds into its queries); otherwise the jobs share
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

  it('keeps every object under 1 MiB when every job has thresholds of its own; only the dashboard passes 256 KiB', () => {
    const distinct = synth(chartWith(1000, { distinct: true }));
    const big: string[] = [];
    for (const object of distinct.objects) {
      const { json, yaml, what } = sizes(object);
      expect(json, what).toBeLessThan(MIB);
      expect(yaml, what).toBeLessThan(MIB);
      if (json >= CLIENT_SIDE_APPLY_LIMIT) big.push(`${object.kind}/${object.metadata.name}`);
    }
    // README tells to apply with --server-side, which keeps no last-applied annotation.
    expect(big.filter((b) => b !== 'ConfigMap/grafana-dashboard-batch-jobs')).toEqual([]);
  });

  it('splits the alerts over several PrometheusRules that hold every job group exactly once', () => {
    expect(rules.length).toBeGreaterThan(1);
    expect(chart.alerts.rules.map((r) => r.name)).toEqual(rules.map((r) => r.metadata.name));
    expect(rules.map((r) => r.metadata.name)).toEqual(
      rules.map((_, i) => (i === 0 ? 'pushgateway-rules' : `pushgateway-rules-${i + 1}`)));
    const names: string[] = rules.flatMap(groupsOf);
    expect(new Set(names).size).toBe(names.length);
    const jobGroups = names.filter((n) => n.startsWith('monitoring.pushgateway.job.job-'));
    expect(jobGroups.sort()).toEqual(Array.from({ length: 1000 }, (_, i) => `monitoring.pushgateway.job.job-${String(i).padStart(4, '0')}`));
    expect(groupsOf(rules[0])).toContain('monitoring.pushgateway.pushgateway');
    for (const rule of rules) {
      expect(rule.metadata.labels).toEqual(rules[0].metadata.labels);
      expect(groupsOf(rule)).toEqual([...groupsOf(rule)].sort());
    }
  });

  it('does not grow the dashboard per job', () => {
    const one = synth(chartWith(1));
    const panels = (o: any) => Object.entries(o.data)
      .filter(([k]) => k.endsWith('.json'))
      .map(([, v]) => JSON.parse(v as string).panels.length);
    expect(panels(s.find('ConfigMap', 'grafana-dashboard-batch-jobs'))).toEqual(panels(one.find('ConfigMap', 'grafana-dashboard-batch-jobs')));
  });

  it('synthesizes the same bytes, and the same split, whatever the order of addJob calls', () => {
    expect(synth(chartWith(1000, { order: 'reverse' })).yaml).toBe(s.yaml);
  });
});
