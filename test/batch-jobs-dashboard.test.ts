import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchJob, BatchJobsDashboard, BatchJobsDashboardProps, BatchMonitoringChart, KubePrometheusFlavour, Pushgateway } from '../lib';
import { checkDashboard, checkDashboardQueries, substituteVariables } from './helpers/dashboards';
import { synth } from './helpers/synth';

const JOBS: BatchJob[] = [
  { name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) },
  { name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) },
  { name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) },
];

function chartWith(jobs: BatchJob[] = JOBS, props: ConstructorParameters<typeof BatchMonitoringChart>[2] = {}) {
  const chart = new BatchMonitoringChart(new App(), 'batch-monitoring', { cleanupEnabled: false, ...props });
  for (const job of jobs) chart.addJob(job);
  return chart;
}

function dashboardOf(chart: BatchMonitoringChart): any {
  return JSON.parse(chart.dashboard.dashboardJson());
}

function panel(dashboard: any, title: string): any {
  const found = dashboard.panels.filter((p: any) => p.title === title);
  if (found.length !== 1) throw new Error(`expected one panel ${title}, found ${found.length}`);
  return found[0];
}

function exprs(dashboard: any): string[] {
  return dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr as string));
}

/** A standalone dashboard in a plain chart, for validation tests. */
function standalone(props: Partial<BatchJobsDashboardProps> = {}): BatchJobsDashboard {
  const chart = new Chart(new App(), 'test', { namespace: 'monitoring' });
  const pushgateway = new Pushgateway(chart, 'Pushgateway');
  return new BatchJobsDashboard(chart, 'Dashboard', { pushgateway, ...props });
}

describe('BatchJobsDashboard', () => {
  it('synthesizes a dashboard ConfigMap for the Grafana sidecar', async () => {
    const s = synth(chartWith());
    const cm = s.find('ConfigMap', 'grafana-dashboard-batch-jobs');
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'grafana-dashboard-batch-jobs',
      'app.kubernetes.io/component': 'dashboard',
      'app.kubernetes.io/part-of': 'batch-monitoring',
      'grafana_dashboard': '1',
    });
    expect(Object.keys(cm.data)).toEqual(['batch-jobs.json']);
    await expect(Yaml.stringify(cm)).toMatchFileSnapshot('__snapshots__/batch-jobs-dashboard.k8s.yaml');
    await expect(cm.data['batch-jobs.json']).toMatchFileSnapshot('__snapshots__/batch-jobs-dashboard.json');
  });

  it('sets uid, title, tags, refresh, time zone, and the datasource and job variables', () => {
    const d = dashboardOf(chartWith());
    expect(d).toMatchObject({ uid: 'batch-jobs', title: 'Batch jobs / Pushgateway', tags: ['batch-jobs', 'pushgateway'],
      refresh: '1m', timezone: 'utc', editable: false, time: { from: 'now-7d', to: 'now' } });
    const [datasource, job] = d.templating.list;
    expect(datasource).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    expect(job).toMatchObject({
      name: 'job', type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' },
      query: 'label_values(batch_job:info{pushgateway="monitoring/pushgateway"}, job)', multi: true, includeAll: true, allValue: '.+',
      current: { text: 'All', value: '$__all' }, refresh: 2,
    });
  });

  it('has the overview, run and Pushgateway panels, none of them a deprecated graph', () => {
    const d = dashboardOf(chartWith());
    expect(d.panels.map((p: any) => `${p.type}: ${p.title}`)).toEqual([
      'row: Overview',
      'table: Jobs',
      'row: Runs',
      'state-timeline: Success / failure',
      'timeseries: Run duration',
      'timeseries: Records processed',
      'timeseries: Errors and retries',
      'row: Pushgateway',
      'stat: Pushgateway up',
      'timeseries: Rejected pushes',
      'table: Last push age per group',
      'table: Failed pushes',
      'table: Replicas',
    ]);
    expect(d.panels.map((p: any) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('colours each job against its own interval, grace and max duration, joined from the registry\'s threshold series', () => {
    const table = panel(dashboardOf(chartWith()), 'Jobs');
    const byRef = Object.fromEntries(table.targets.map((t: any) => [t.refId, t.expr]));
    const since = 'time() - max by (job) (batch_job:last_success_timestamp_seconds{pushgateway="monitoring/pushgateway",job=~"$job"})';
    const threshold = (name: string) => `max by (job) (batch_job:threshold_seconds{pushgateway="monitoring/pushgateway",threshold="${name}",job=~"$job"})`;
    expect(byRef.D).toBe(`(${since} > bool on (job) ${threshold('interval')}) + (${since} > bool on (job) ${threshold('deadline')})`);
    expect(byRef.F).toBe(`max by (job) (batch_job:last_run_duration_seconds{pushgateway="monitoring/pushgateway",job=~"$job"}) / on (job) ${threshold('max_duration')}`);
    const override = (name: string) => table.fieldConfig.overrides.find((o: any) => o.matcher.options === name).properties;
    expect(override('Value #D')).toContainEqual({ id: 'displayName', value: 'Schedule' });
    expect(JSON.stringify(override('Value #D'))).toContain('"0":{"color":"green","index":0,"text":"on time"}');
    expect(JSON.stringify(override('Value #D'))).toContain('"2":{"color":"red","index":2,"text":"overdue"}');
    expect(override('Value #F')).toContainEqual({ id: 'thresholds', value: { mode: 'absolute',
      steps: [{ color: 'green', value: null }, { color: 'orange', value: 0.8 }, { color: 'red', value: 1 }] } });
    expect(table.transformations.map((t: any) => t.id)).toEqual(['merge', 'organize']);
    expect(table.targets.every((t: any) => t.instant === true && t.format === 'table')).toBe(true);
  });

  it('shows seconds as durations and Unix times as dates', () => {
    const d = dashboardOf(chartWith());
    const table = panel(d, 'Jobs');
    const props = (name: string) => table.fieldConfig.overrides.find((o: any) => o.matcher.options === name).properties;
    expect(table.targets.find((t: any) => t.refId === 'B').expr).toMatch(/\) \* 1000$/);
    expect(props('Value #B')).toContainEqual({ id: 'unit', value: 'dateTimeAsIso' });
    expect(props('Value #C')).toContainEqual({ id: 'unit', value: 'dtdurations' });
    expect(props('Value #E')).toContainEqual({ id: 'unit', value: 'dtdurations' });
    expect(panel(d, 'Run duration').fieldConfig.defaults.unit).toBe('s');
    expect(panel(d, 'Last push age per group').fieldConfig.overrides[0].properties).toContainEqual({ id: 'unit', value: 'dtdurations' });
    const failed = panel(d, 'Failed pushes');
    expect(failed.targets[0].expr).toMatch(/^\(.*\) \* 1000$/);
    expect(failed.fieldConfig.overrides[0].properties).toContainEqual({ id: 'unit', value: 'dateTimeAsIso' });
  });

  it('maps the success gauge to failed/ok in the state timeline', () => {
    const timeline = panel(dashboardOf(chartWith()), 'Success / failure');
    expect(timeline.fieldConfig.defaults.mappings).toEqual([{ type: 'value', options: {
      0: { text: 'failed', color: 'red', index: 0 }, 1: { text: 'ok', color: 'green', index: 1 } } }]);
    // The newest push of each job across replicas, as the alerts see it.
    // A run with several wrapped containers failed when one did.
    expect(timeline.targets[0].expr).toBe('min by (job) (batch_job:last_run_success{pushgateway="monitoring/pushgateway",job=~"$job"})');
  });

  it('aggregates the Pushgateway target labels away in every query', () => {
    for (const expr of exprs(dashboardOf(chartWith()))) {
      // every selector sits directly inside an aggregation that drops pod, instance, service, ...
      for (const m of expr.matchAll(/([a-z_:]+)\{/g)) {
        const before = expr.slice(0, m.index);
        // The Replicas table is per pod on purpose.
        expect(before, expr).toMatch(/((max|min) by \(job\) \(|max by \(pod\) \(|max without \(container, endpoint, namespace, pod, service\) \(|sum\(|sum by \(code\) \(rate\()$/);
      }
    }
  });

  it('scopes the Pushgateway health to its scrape job, Service and namespace', () => {
    const chart = chartWith(JOBS, { namespace: 'batch', pushgateway: { name: 'pgw' } });
    const d = dashboardOf(chart);
    expect(panel(d, 'Pushgateway up').targets[0].expr).toBe('sum(up{job="pgw",namespace="batch"}) or vector(0)');
    expect(panel(d, 'Rejected pushes').targets[0].expr).toBe(
      'sum by (code) (rate(pushgateway_http_requests_total{code=~"4..",handler="push",job="pgw",namespace="batch"}[$__rate_interval])) * 60');
    expect(panel(d, 'Last push age per group').targets[0].expr).toContain('push_time_seconds{job=~"$job",namespace="batch",service="pgw"}');
    // Grafana still lives in the flavour's namespace
    expect(synth(chart).find('ConfigMap').metadata.namespace).toBe('monitoring');
  });

  it('puts the ConfigMap in the namespace of the flavour\'s Grafana', () => {
    const flavour = KubePrometheusFlavour.kubePrometheusStack({ release: 'kps', namespace: 'observability' });
    const cm = synth(chartWith(JOBS, { flavour, dashboard: { uid: 'jobs' } })).find('ConfigMap');
    expect(cm.metadata).toMatchObject({ name: 'grafana-dashboard-jobs', namespace: 'observability', labels: { grafana_dashboard: '1' } });
    expect(Object.keys(cm.data)).toEqual(['jobs.json']);
  });

  it('takes uid, title, tags, refresh and time range from the chart props', () => {
    const d = dashboardOf(chartWith(JOBS, { dashboard: { uid: 'etl', title: 'ETL', tags: ['etl'], refresh: Duration.seconds(30), timeRange: Duration.hours(36) } }));
    expect(d).toMatchObject({ uid: 'etl', title: 'ETL', tags: ['etl'], refresh: '30s', time: { from: 'now-36h', to: 'now' } });
  });

  it('is the same for any number of jobs: the thresholds come from the registry\'s series', () => {
    const json = (chart: BatchMonitoringChart) => synth(chart).find('ConfigMap').data['batch-jobs.json'];
    expect(json(chartWith(JOBS))).toBe(json(chartWith([])));
    expect(json(chartWith(JOBS))).not.toContain('daily-backup');
    expect(json(chartWith(JOBS))).toContain('batch_job:threshold_seconds{pushgateway=\\"monitoring/pushgateway\\",threshold=\\"deadline\\",job=~\\"$job\\"}');
  });

  it('is deterministic: same jobs, same bytes, whatever the order they were added in', () => {
    const a = synth(chartWith(JOBS));
    const b = synth(chartWith(JOBS));
    expect(b.yaml).toBe(a.yaml);
    expect(chartWith([...JOBS].reverse()).dashboard.dashboardJson()).toBe(chartWith(JOBS).dashboard.dashboardJson());
  });

  it('is the same dashboard with 100 jobs as with 1', () => {
    const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({
      name: `job-${String(i).padStart(4, '0')}`, interval: Duration.hours(i % 2 ? 1 : 24), maxDuration: Duration.minutes(10) }));
    expect(chartWith(jobs(100)).dashboard.dashboardJson()).toBe(chartWith(jobs(1)).dashboard.dashboardJson());
  });

  it('shows each Pushgateway replica: whether it is scraped and how long ago it last accepted a push', () => {
    const replicas = panel(dashboardOf(chartWith()), 'Replicas');
    expect(replicas.targets.map((t: any) => t.expr)).toEqual([
      'max by (pod) (up{job="pushgateway",namespace="monitoring"})',
      'time() - max by (pod) (push_time_seconds{namespace="monitoring",service="pushgateway"} > 0)',
    ]);
  });

  it('offers a JSON patch that mounts the ConfigMap into kube-prometheus\'s grafana Deployment', () => {
    const patch = JSON.parse(chartWith().dashboard.grafanaDeploymentPatch());
    expect(patch).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'grafana' },
      { op: 'add', path: '/spec/template/spec/volumes/-',
        value: { name: 'grafana-dashboard-batch-jobs', configMap: { name: 'grafana-dashboard-batch-jobs' } } },
      { op: 'add', path: '/spec/template/spec/containers/0/volumeMounts/-',
        value: { name: 'grafana-dashboard-batch-jobs', mountPath: '/grafana-dashboard-definitions/0/batch-jobs', readOnly: true } },
    ]);
  });

  it('writes the dashboard JSON and the patch beside the synth output, for kube-prometheus', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-files-'));
    try {
      const outdir = path.join(folder, 'dist');
      const chart = new BatchMonitoringChart(new App({ outdir }), 'batch-monitoring', { cleanupEnabled: false });
      const written = chart.dashboard.writeGrafanaFiles(path.join(folder, 'grafana', 'nested'));
      expect(written.map((f) => path.relative(folder, f))).toEqual([
        path.join('grafana', 'nested', 'batch-jobs.json'), path.join('grafana', 'nested', 'grafana-dashboard-batch-jobs.patch.json'),
      ]);
      expect(fs.readFileSync(written[0], 'utf8')).toBe(chart.dashboard.dashboardJson());
      expect(fs.readFileSync(written[1], 'utf8')).toBe(chart.dashboard.grafanaDeploymentPatch());
      // A sibling whose name starts with the output's is outside it.
      expect(chart.dashboard.writeGrafanaFiles(path.join(folder, 'dist-grafana'))).toHaveLength(2);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('fails to write the Grafana files into the synth output, where `kubectl apply -f` would read them', () => {
    const outdir = path.join(os.tmpdir(), 'never-written-dist');
    const chart = new BatchMonitoringChart(new App({ outdir }), 'batch-monitoring', { cleanupEnabled: false });
    for (const inside of [outdir, path.join(outdir, 'grafana'), path.join(outdir, '..foo')]) {
      expect(() => chart.dashboard.writeGrafanaFiles(inside))
        .toThrow(/batch-monitoring\/Dashboard: invalid writeGrafanaFiles\(\) directory ".*": use a folder outside the synth output .* \(e\.g\. "grafana"\)/);
    }
    expect(fs.existsSync(outdir)).toBe(false);
  });

  it('the pinned SDK ships no JSON schema to validate against, so the typed builders are the schema check', () => {
    // If a later SDK version ships one, this fails: then validate the dashboard against it here.
    // the package exports subpaths only: find its root from one of them (dist/dashboard/index.js)
    const root = path.resolve(require.resolve('@grafana/grafana-foundation-sdk/dashboard'), '../../..');
    expect(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version).toBe('v0.0.21');
    const files = fs.readdirSync(root, { recursive: true }).map(String);
    expect(files.filter((f) => /schema/i.test(f) && !f.endsWith('.d.ts') && !/\.js(\.map)?$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.json') && f !== 'package.json')).toEqual([]);
  });

  it('fails for a uid longer than Grafana allows', () => {
    expect(() => standalone({ uid: 'a'.repeat(41) })).toThrow(/Dashboard: invalid uid "a{41}": use at most 40 letters, digits, "-" or "_", as Grafana requires/);
  });

  it('fails for a uid that cannot name a ConfigMap', () => {
    expect(() => standalone({ uid: 'Batch_Jobs' })).toThrow(/Dashboard: invalid uid "Batch_Jobs": use lower-case letters, digits and "-", .* e\.g\. "batch-jobs": the uid also names the ConfigMap/);
  });

  it('fails for an empty title', () => {
    expect(() => standalone({ title: ' ' })).toThrow(/invalid title " ": give the dashboard a title/);
  });

  it('fails for an empty tag', () => {
    expect(() => standalone({ tags: ['ok', ''] })).toThrow(/invalid tags \["ok",""\]: remove the empty tag/);
  });

  it('fails for a refresh shorter than 5 seconds or not in whole seconds', () => {
    expect(() => standalone({ refresh: Duration.seconds(1) })).toThrow(/invalid refresh "1 second": use whole seconds, at least 5/);
    expect(() => standalone({ refresh: Duration.millis(5500) })).toThrow(/invalid refresh/);
  });

  it('fails for an empty time range', () => {
    expect(() => standalone({ timeRange: Duration.seconds(0) })).toThrow(/invalid timeRange/);
  });

  it('fails through the chart without registering the job', () => {
    const chart = chartWith([]);
    expect(() => chart.addJob({ ...JOBS[0], interval: Duration.seconds(0) })).toThrow(/invalid interval/);
    expect(chart.jobs).toEqual([]);
  });
});

describe('checkDashboardQueries', () => {
  const good = () => dashboardOf(chartWith());
  const configMap = (dashboard: any) => ({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'monitoring', labels: { grafana_dashboard: '1' } },
    data: { 'd.json': JSON.stringify(dashboard) },
  });

  it('passes the synthesized dashboard', () => {
    expect(() => checkDashboardQueries([configMap(good())])).not.toThrow();
  });

  it('substitutes template variables the way Grafana does', () => {
    expect(substituteVariables('rate(x{job=~"$job",a="${datasource}",b="[[job]]"}[$__rate_interval])'))
      .toBe('rate(x{job=~"x",a="x",b="x"}[1m])');
  });

  it('fails for invalid PromQL in a panel', () => {
    const d = good();
    d.panels[1].targets[0].expr = 'max by (job) (batch_job_success{job=~"$job"}';
    expect(() => checkDashboardQueries([configMap(d)])).toThrow(/panel "Jobs" query A: invalid PromQL/);
  });

  it('fails for invalid PromQL in a variable query', () => {
    const d = good();
    d.templating.list[1].query = 'label_values(batch_job_success{, job)';
    expect(() => checkDashboard(d, 'd')).toThrow(/variable job: invalid PromQL/);
  });

  it('fails for a deprecated graph panel', () => {
    const d = good();
    d.panels[3].type = 'graph';
    expect(() => checkDashboard(d, 'd')).toThrow(/the deprecated "graph" panel/);
  });

  it('fails for duplicate panel ids', () => {
    const d = good();
    d.panels[3].id = d.panels[1].id;
    expect(() => checkDashboard(d, 'd')).toThrow(/duplicate panel id 2/);
  });

  it('fails for overlapping panels', () => {
    const d = good();
    d.panels[5].gridPos = { ...d.panels[4].gridPos, x: d.panels[4].gridPos.x + 1 };
    expect(() => checkDashboard(d, 'd')).toThrow(/overlaps panel "Run duration"/);
  });

  it('fails for a panel or query on a fixed datasource', () => {
    const d = good();
    d.panels[4].targets[1].datasource = { type: 'prometheus', uid: 'prometheus' };
    expect(() => checkDashboard(d, 'd')).toThrow(/panel "Run duration" query B: datasource .* is not the \$\{datasource\} variable/);
    const e = good();
    delete e.panels[6].datasource;
    expect(() => checkDashboard(e, 'd')).toThrow(/panel "Errors and retries": datasource undefined/);
  });

  it('fails for a ConfigMap value that is not JSON', () => {
    const cm = configMap(good());
    cm.data['d.json'] = '{';
    expect(() => checkDashboardQueries([cm])).toThrow(/ConfigMap monitoring\/d d.json: not JSON/);
  });
});
