import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { AlertSeverity, BatchMonitoringChart } from '../../lib';
import { quoteLabelValue } from '../../lib/promql';
import { findBinary } from './binaries';
import { synth } from './synth';

/*
 * The alert rules as synthesized, run by the real promtool against simulated Pushgateway (and
 * kube-state-metrics) series. promtool's clock starts at Unix time 0 and every series is sampled
 * once a minute, so "minute m" below is time() = 60 * m.
 */

export const promtool = findBinary('promtool', 'prometheus');
export const RUNBOOKS = 'https://runbooks.example.com/batch/runbooks.md';
// Quoted in PromQL; `$1` would be expanded by label_replace.
export const WEIRD = 'we"ird\\}$1';
export const NS = 'monitoring';
export const GRAFANA = 'https://grafana.example.com';

export function rulesFile(): string {
  const app = new App();
  // Two replicas: every pusher pushes to both, Prometheus scrapes both.
  const chart = new BatchMonitoringChart(app, 'test', {
    namespace: NS, alerts: { runbookBaseUrl: RUNBOOKS, dashboardBaseUrl: `${GRAFANA}/` }, cleanupEnabled: false, pushgateway: { replicas: 2, persistence: false },
  });
  chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
  // Never reports: no healthy data has it, so it fires from 26h 6m on (the install-day scenario); the other scenarios end sooner.
  chart.addJob({ name: 'daily-audit', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
  chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10), labels: { team: 'data' } });
  // A job of another namespace, paged less: its alerts carry its own namespace.
  chart.addJob({ name: 'etl-load', namespace: 'etl', interval: Duration.hours(1), maxDuration: Duration.minutes(10), severities: { failure: AlertSeverity.WARNING } });
  // A job run by a CronJob (as a MonitoredCronJob declares it): the CronJob's creation declares it too.
  chart.addJob({ name: 'report-export', namespace: 'reports', cronJob: 'report-export', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  chart.addJob({ name: 'hourly-import', namespace: 'reports', cronJob: 'hourly-import', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  // Any name is quoted safely.
  chart.alerts.addJob({ name: WEIRD, interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  for (const name of ['nightly-report', 'hourly-export', 'paused']) chart.alerts.addCronJob({ name, namespace: 'reports', interval: Duration.hours(1) });
  // Every PrometheusRule's groups: a large chart splits them over several.
  return stringify({ groups: synth(chart).all('PrometheusRule').flatMap((r) => r.spec.groups) });
}

/**
 * One run of a job, as the wrapper pushes it: optionally its start (`started`, a minute:
 * `batch_job_running 1`, which keeps the group's last result), then its result at minute `at`
 * (none: a run that hangs), with its grouping labels.
 */
export interface Run {
  readonly at?: number;
  readonly success?: boolean;
  readonly started?: number;
  readonly duration?: number;
  readonly group?: Record<string, string>;
  /** `batch_job_exit_code`; with `signal`, `batch_job_exit_signal{signal}` too. */
  readonly exitCode?: number;
  readonly signal?: 'SIGKILL' | 'SIGTERM';
  /** The pushed `batch_job_last_success_timestamp_seconds` of a success pushed at `pushSeconds`; by default that time. */
  readonly pushedTimestamp?: (pushSeconds: number) => number | string;
}

const SIGNALS = { SIGKILL: 9, SIGTERM: 15 };

/** A Pushgateway pod that serves (and is scraped) from minute `from` until before minute `to`. */
export interface Pod {
  readonly name: string;
  readonly from: number;
  readonly to?: number;
}

export const ONE_POD: Pod[] = [{ name: 'pushgateway-7d9f-abcde', from: 0 }];

export function seriesName(metric: string, labels: Record<string, string>): string {
  const body = Object.keys(labels).sort().map((k) => `${k}=${quoteLabelValue(labels[k])}`).join(', ');
  return `${metric}{${body}}`;
}

/** Values, one a minute up to `minutes`: a number, `_` (no sample) or `stale` when the pod went away. */
export function values(minutes: number, pod: Pod, at: (m: number) => number | string | undefined): string {
  const out: string[] = [];
  for (let m = 0; m <= minutes; m++) {
    if (m < pod.from) out.push('_');
    else if (pod.to !== undefined && m >= pod.to) out.push(m === pod.to ? 'stale' : '_');
    else {
      const v = at(m);
      out.push(v === undefined ? '_' : String(v));
    }
  }
  return out.join(' ');
}

export function targetLabels(pod: Pod): Record<string, string> {
  return { namespace: NS, service: 'pushgateway', pod: pod.name, endpoint: 'http', container: 'pushgateway' };
}

/** The series the Pushgateway exposes for a job's runs (each group separately), as Prometheus scrapes them. */
export function jobSeries(job: string, runs: Run[], minutes: number, pods: Pod[] = ONE_POD) {
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const key = JSON.stringify(run.group ?? {});
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const out: Array<{ series: string; values: string }> = [];
  for (const pod of pods) {
    for (const [key, groupRuns] of groups) {
      const labels = { job, ...JSON.parse(key), ...targetLabels(pod) };
      const results = groupRuns.filter((r) => r.at !== undefined);
      const result = (m: number, pred: (r: Run) => boolean = () => true) =>
        results.filter((r) => r.at! <= m && pred(r)).sort((x, y) => y.at! - x.at!)[0];
      // Every push, a start or a result, with its minute.
      const pushes = groupRuns.flatMap((r) => [
        ...(r.started !== undefined ? [{ at: r.started, start: true }] : []),
        ...(r.at !== undefined ? [{ at: r.at, start: false }] : []),
      ]);
      const push = (m: number) => pushes.filter((p) => p.at <= m).sort((x, y) => y.at - x.at || Number(x.start) - Number(y.start))[0];
      const metric = (name: string, f: (m: number) => number | string | undefined, extra: Record<string, string> = {}) =>
        out.push({ series: seriesName(name, { ...labels, ...extra }), values: values(minutes, pod, f) });
      metric('push_time_seconds', (m) => push(m) && push(m).at * 60);
      metric('push_failure_time_seconds', (m) => push(m) && 0);
      metric('batch_job_success', (m) => result(m) && (result(m).success ? 1 : 0));
      metric('batch_job_duration_seconds', (m) => result(m)?.duration ?? (result(m) && 30));
      metric('batch_job_last_success_timestamp_seconds', (m) => {
        const ok = result(m, (r) => r.success === true);
        return ok && (ok.pushedTimestamp ?? ((t) => t))(ok.at! * 60);
      });
      if (groupRuns.some((r) => r.started !== undefined)) metric('batch_job_running', (m) => push(m) && (push(m).start ? 1 : 0));
      if (results.some((r) => r.exitCode !== undefined)) {
        metric('batch_job_exit_code', (m) => result(m)?.exitCode);
        for (const signal of Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>) {
          if (results.some((r) => r.signal === signal)) metric('batch_job_exit_signal', (m) => (result(m)?.signal === signal ? SIGNALS[signal] : undefined), { signal });
        }
        metric('batch_job_exit_signal', (m) => (result(m) && !result(m).signal ? 0 : undefined));
      }
    }
  }
  return out;
}

/** The Pushgateway's own `up` series, one per pod. */
export function upSeries(minutes: number, pods: Pod[] = ONE_POD, up: (m: number) => number = () => 1) {
  return pods.map((pod, i) => ({
    series: seriesName('up', { job: 'pushgateway', instance: `10.0.0.${i + 1}:9091`, ...targetLabels(pod) }),
    values: values(minutes, pod, up),
  }));
}

export const ALERTS = [
  'BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobRunningTooLong', 'BatchJobNotRunning', 'BatchJobBadTimestamp', 'BatchJobPushFailed',
  'PushgatewayDown', 'PushgatewayPushesRejected',
];

export function silent(evalMinutes: number[], alerts: string[] = ALERTS) {
  return evalMinutes.flatMap((m) => alerts.map((alertname) => ({ eval_time: `${m}m`, alertname, exp_alerts: [] })));
}

/** Healthy runs of every job, so that only the alert under test can fire. */
export function healthyJobs(minutes: number, pods: Pod[] = ONE_POD, except: string[] = []) {
  const hourly = (job: string) => jobSeries(job, Array.from({ length: Math.floor(minutes / 60) + 1 }, (_, h) => ({ at: h * 60 + 1, success: true })), minutes, pods);
  return [
    ...(except.includes('daily-backup') ? [] : jobSeries('daily-backup', [{ at: 1, success: true }, { at: 24 * 60 + 1, success: true }], minutes, pods)),
    ...(except.includes('data-processing') ? [] : hourly('data-processing')),
    ...(except.includes(WEIRD) ? [] : hourly(WEIRD)),
    ...(except.includes('etl-load') ? [] : hourly('etl-load')),
    ...(except.includes('report-export') ? [] : hourly('report-export')),
    ...(except.includes('hourly-import') ? [] : hourly('hourly-import')),
  ];
}

// The alerts about one job link to the dashboard with that job selected.
const JOB_ALERTS = ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobRunningTooLong', 'BatchJobNotRunning', 'BatchJobBadTimestamp', 'BatchJobPushFailed'];

/** An expected alert; promtool compares the annotations as a whole. */
export function alert(alertname: string, labels: Record<string, string>, summary: string, description: string) {
  const dashboard = `${GRAFANA}/d/batch-jobs`;
  return {
    exp_labels: labels,
    exp_annotations: {
      summary,
      description,
      runbook_url: `${RUNBOOKS}#${alertname.toLowerCase()}`,
      // Go's url.QueryEscape, as the `urlquery` template function does it.
      dashboard_url: JOB_ALERTS.includes(alertname) ? `${dashboard}?var-job=${encodeURIComponent(labels.job).replace(/%20/g, '+')}` : dashboard,
    },
  };
}

export const DATA = { job: 'data-processing', namespace: NS, team: 'data' };

/** BatchJobFailure with its description's details: what was pushed, what Kubernetes saw. */
export function failure(labels: Record<string, string>, details: string, severity = 'critical') {
  return alert('BatchJobFailure', { ...labels, severity }, `Batch job ${labels.job} failed`,
    `Batch job ${labels.job} failed.${details} The alert clears when a later run succeeds.`);
}

/** BatchJobFailure of a pushed failure (`how`: ": exited 3", ...). */
export function failed(labels: Record<string, string>, pushedAt: string, how = '') {
  return failure(labels, ` Its most recent run pushed a failure at ${pushedAt}${how}.`);
}

export function tooSlow(labels: Record<string, string>, took: string, max: string) {
  return alert('BatchJobDurationHigh', { ...labels, severity: 'warning' }, `Batch job ${labels.job} ran longer than its max duration`,
    `The most recent run of batch job ${labels.job} took ${took}, longer than its maximum of ${max}.`);
}

export function notRunning(labels: Record<string, string>, since: string, every: string, deadline: string) {
  return alert('BatchJobNotRunning', { ...labels, severity: 'critical' }, `Batch job ${labels.job} has not succeeded in time`,
    `Batch job ${labels.job} has reported no successful run in the last ${since}; it is expected to succeed every ${every} (deadline with grace: ${deadline}).`);
}

export function neverReported(labels: Record<string, string>, since: string, every: string, deadline: string) {
  return alert('BatchJobNotRunning', { ...labels, severity: 'critical' }, `Batch job ${labels.job} has not succeeded in time`,
    `Batch job ${labels.job} has never reported a successful run since it was declared to Prometheus ${since} ago; `
    + `it is expected to succeed every ${every} (deadline with grace: ${deadline}).`);
}

export const GATEWAY = { job: 'pushgateway', namespace: NS };
export const gatewayDown = alert('PushgatewayDown', { ...GATEWAY, severity: 'critical' }, 'Pushgateway monitoring/pushgateway is down',
  'Prometheus cannot scrape any replica of Pushgateway monitoring/pushgateway: its targets are down or missing. Batch jobs cannot push, and the alerts about them see no new data.');
export const replicaDown = alert('PushgatewayReplicaDown', { ...GATEWAY, severity: 'warning' }, 'A replica of Pushgateway monitoring/pushgateway is down',
  'Only 1 of the 2 replicas of Pushgateway monitoring/pushgateway can be scraped. Pushers still reach the others and the alerts take the newest push of each job, but one more failure is an outage.');
export const pushesRejected = alert('PushgatewayPushesRejected', { ...GATEWAY, severity: 'warning' }, 'Pushgateway monitoring/pushgateway rejects pushes',
  'Pushgateway monitoring/pushgateway answered pushes with a 4xx status in the last 1h: malformed or inconsistent pushes never reach a group, so some job\'s results are missing.');

/** An alert test of promtool: the series, and the alerts expected at each evaluation time. */
export interface PromtoolTest {
  readonly input_series: unknown[];
  readonly alert_rule_test: Array<{ eval_time: string; alertname: string; exp_alerts: unknown[] }>;
}

export interface ScenarioOptions {
  /** Also with `query_offset: 1m` on every group. */
  readonly queryOffset?: boolean;
  /** Minutes the expectations move with the offset. @default 1 */
  readonly queryOffsetShift?: number;
}

/**
 * promtool on one rule file in a temporary folder. `test` runs a scenario; with `queryOffset`, it
 * runs it again with `query_offset` (Mimir's default evaluation delay, 1m) on every group: the
 * alerts must tell the same truth, one minute later for what the data says; what counts from the
 * rules' load (install day) counts from it as before (`queryOffsetShift: 0`).
 */
export class Promtool {
  private readonly dir = mkdtempSync(join(tmpdir(), 'batch-alerts-'));

  constructor(private readonly binary: string, rules: string) {
    writeFileSync(join(this.dir, 'rules.yml'), rules);
    const offset = parse(rules);
    for (const group of offset.groups) group.query_offset = '1m';
    writeFileSync(join(this.dir, 'rules-offset.yml'), stringify(offset));
  }

  /** promtool's whole output; its exit status and output make the test fail loudly. */
  public run(args: string[]): string {
    const res = spawnSync(this.binary, args, { cwd: this.dir, encoding: 'utf8' });
    const output = `${res.stdout}${res.stderr}`;
    if (res.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (exit ${res.status ?? res.signal}):\n${output}`);
    return output;
  }

  public writeFile(name: string, content: string): void {
    writeFileSync(join(this.dir, name), content);
  }

  /** Runs the scenario; returns promtool's output (which says SUCCESS, or the test fails). */
  public test(name: string, test: PromtoolTest, opts: ScenarioOptions = {}): void {
    this.runTest(name, 'rules.yml', test, 0);
    if (opts.queryOffset) this.runTest(`${name}-offset`, 'rules-offset.yml', test, opts.queryOffsetShift ?? 1);
  }

  public dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private runTest(name: string, rules: string, test: PromtoolTest, offsetMinutes: number): void {
    const file = `${name}.test.yml`;
    const later = (evalTime: string) => `${minutesOf(evalTime) + offsetMinutes}m`;
    writeFileSync(join(this.dir, file), stringify({
      rule_files: [rules],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: test.input_series,
        alert_rule_test: test.alert_rule_test.map((t) => ({ ...t, eval_time: later(t.eval_time) })),
      }],
    }));
    const output = this.run(['test', 'rules', file]);
    if (!output.includes('SUCCESS')) throw new Error(`promtool test rules ${file}:\n${output}`);
  }
}

/** Minutes of a promtool eval_time such as `90m`, `24h` or `1d`. */
function minutesOf(evalTime: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(evalTime);
  if (!m) throw new Error(`eval_time ${evalTime}: use whole minutes, hours or days`);
  return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
}
