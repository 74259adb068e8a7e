import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { AlertSeverity, BatchMonitoringChart } from '../../lib';
import { quoteLabelValue } from '../../lib/promql';
import { findBinary } from '../helpers/binaries';
import { synth } from '../helpers/synth';

/*
 * The rules as synthesized, run by the real promtool against simulated Pushgateway series.
 * promtool's clock starts at Unix time 0 and every series is sampled once a minute, so "minute m"
 * below is time() = 60 * m.
 */

const promtool = findBinary('promtool', 'prometheus');
const RUNBOOKS = 'https://runbooks.example.com/batch/runbooks.md';
const WEIRD = 'we"ird\\}';
const NS = 'monitoring';

function rulesFile(): string {
  const app = new App();
  // Two replicas: every pusher pushes to both, Prometheus scrapes both.
  const chart = new BatchMonitoringChart(app, 'test', {
    namespace: NS, alerts: { runbookBaseUrl: RUNBOOKS }, cleanupEnabled: false, pushgateway: { replicas: 2, persistence: false },
  });
  chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
  chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10), labels: { team: 'data' } });
  // A job of another namespace, paged less: its alerts carry its own namespace.
  chart.addJob({ name: 'etl-load', namespace: 'etl', interval: Duration.hours(1), maxDuration: Duration.minutes(10), severities: { failure: AlertSeverity.WARNING } });
  // A job run by a CronJob (as a MonitoredCronJob declares it): the CronJob's creation declares it too.
  chart.addJob({ name: 'report-export', namespace: 'reports', cronJob: 'report-export', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  // Any name is quoted safely.
  chart.alerts.addJob({ name: WEIRD, interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  for (const name of ['nightly-report', 'hourly-export', 'paused']) chart.alerts.addCronJob({ name, namespace: 'reports', interval: Duration.hours(1) });
  // Every PrometheusRule's groups: a large chart splits them over several.
  return stringify({ groups: synth(chart).all('PrometheusRule').flatMap((r) => r.spec.groups) });
}

/** One run of a job: when it pushed (minute), its result and duration, and its grouping labels. */
interface Run {
  readonly at: number;
  readonly success: boolean;
  readonly duration?: number;
  readonly group?: Record<string, string>;
}

/** A Pushgateway pod that serves (and is scraped) from minute `from` until before minute `to`. */
interface Pod {
  readonly name: string;
  readonly from: number;
  readonly to?: number;
}

const ONE_POD: Pod[] = [{ name: 'pushgateway-7d9f-abcde', from: 0 }];

function seriesName(metric: string, labels: Record<string, string>): string {
  const body = Object.keys(labels).sort().map((k) => `${k}=${quoteLabelValue(labels[k])}`).join(', ');
  return `${metric}{${body}}`;
}

/** Values, one a minute up to `minutes`: a number, `_` (no sample) or `stale` when the pod went away. */
function values(minutes: number, pod: Pod, at: (m: number) => number | undefined): string {
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

function targetLabels(pod: Pod): Record<string, string> {
  return { namespace: NS, service: 'pushgateway', pod: pod.name, endpoint: 'http', container: 'pushgateway' };
}

/** The series the Pushgateway exposes for a job's runs (each group separately), as Prometheus scrapes them. */
function jobSeries(job: string, runs: Run[], minutes: number, pods: Pod[] = ONE_POD) {
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const key = JSON.stringify(run.group ?? {});
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const out: Array<{ series: string; values: string }> = [];
  for (const pod of pods) {
    for (const [key, groupRuns] of groups) {
      const labels = { job, ...JSON.parse(key), ...targetLabels(pod) };
      const latest = (m: number, pred: (r: Run) => boolean = () => true) =>
        groupRuns.filter((r) => r.at <= m && pred(r)).sort((a, b) => b.at - a.at)[0];
      const metric = (name: string, f: (m: number) => number | undefined) =>
        out.push({ series: seriesName(name, labels), values: values(minutes, pod, f) });
      metric('push_time_seconds', (m) => latest(m) && latest(m).at * 60);
      metric('push_failure_time_seconds', (m) => latest(m) && 0);
      metric('batch_job_success', (m) => latest(m) && (latest(m).success ? 1 : 0));
      metric('batch_job_duration_seconds', (m) => latest(m)?.duration ?? (latest(m) && 30));
      metric('batch_job_last_success_timestamp_seconds', (m) => {
        const ok = latest(m, (r) => r.success);
        return ok && ok.at * 60;
      });
    }
  }
  return out;
}

/** The Pushgateway's own `up` series, one per pod. */
function upSeries(minutes: number, pods: Pod[] = ONE_POD, up: (m: number) => number = () => 1) {
  return pods.map((pod, i) => ({
    series: seriesName('up', { job: 'pushgateway', instance: `10.0.0.${i + 1}:9091`, ...targetLabels(pod) }),
    values: values(minutes, pod, up),
  }));
}

const ALERTS = ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning', 'BatchJobPushFailed', 'PushgatewayDown', 'PushgatewayPushesRejected'];

function silent(evalMinutes: number[], alerts: string[] = ALERTS) {
  return evalMinutes.flatMap((m) => alerts.map((alertname) => ({ eval_time: `${m}m`, alertname, exp_alerts: [] })));
}

/** Healthy runs of every job, so that only the alert under test can fire. */
function healthyJobs(minutes: number, pods: Pod[] = ONE_POD, except: string[] = []) {
  const hourly = (job: string) => jobSeries(job, Array.from({ length: Math.floor(minutes / 60) + 1 }, (_, h) => ({ at: h * 60 + 1, success: true })), minutes, pods);
  return [
    ...(except.includes('daily-backup') ? [] : jobSeries('daily-backup', [{ at: 1, success: true }, { at: 24 * 60 + 1, success: true }], minutes, pods)),
    ...(except.includes('data-processing') ? [] : hourly('data-processing')),
    ...(except.includes(WEIRD) ? [] : hourly(WEIRD)),
    ...(except.includes('etl-load') ? [] : hourly('etl-load')),
    ...(except.includes('report-export') ? [] : hourly('report-export')),
  ];
}

/** An expected alert; promtool compares the annotations as a whole. */
function alert(alertname: string, labels: Record<string, string>, summary: string, description: string) {
  return {
    exp_labels: labels,
    exp_annotations: {
      summary,
      description,
      runbook_url: `${RUNBOOKS}#${alertname.toLowerCase()}`,
    },
  };
}

const DATA = { job: 'data-processing', namespace: NS, team: 'data' };

function failed(labels: Record<string, string>, pushedAt: string) {
  return alert('BatchJobFailure', { ...labels, severity: 'critical' }, `Batch job ${labels.job} failed`,
    `The most recent run of batch job ${labels.job} reported failure (batch_job_success 0, pushed at ${pushedAt}). The alert clears when a later run succeeds.`);
}

function tooSlow(labels: Record<string, string>, took: string, max: string) {
  return alert('BatchJobDurationHigh', { ...labels, severity: 'warning' }, `Batch job ${labels.job} ran longer than its max duration`,
    `The most recent run of batch job ${labels.job} took ${took}, longer than its maximum of ${max}.`);
}

function notRunning(labels: Record<string, string>, since: string, every: string, deadline: string) {
  return alert('BatchJobNotRunning', { ...labels, severity: 'critical' }, `Batch job ${labels.job} has not succeeded in time`,
    `Batch job ${labels.job} has reported no successful run in the last ${since}; it is expected to succeed every ${every} (deadline with grace: ${deadline}).`);
}

function neverReported(labels: Record<string, string>, since: string, every: string, deadline: string) {
  return alert('BatchJobNotRunning', { ...labels, severity: 'critical' }, `Batch job ${labels.job} has not succeeded in time`,
    `Batch job ${labels.job} has never reported a successful run since it was declared to Prometheus ${since} ago; `
    + `it is expected to succeed every ${every} (deadline with grace: ${deadline}).`);
}

const GATEWAY = { job: 'pushgateway', namespace: NS };
const gatewayDown = alert('PushgatewayDown', { ...GATEWAY, severity: 'critical' }, 'Pushgateway monitoring/pushgateway is down',
  'Prometheus cannot scrape any replica of Pushgateway monitoring/pushgateway: its targets are down or missing. Batch jobs cannot push, and the alerts about them see no new data.');
const replicaDown = alert('PushgatewayReplicaDown', { ...GATEWAY, severity: 'warning' }, 'A replica of Pushgateway monitoring/pushgateway is down',
  'Only 1 of the 2 replicas of Pushgateway monitoring/pushgateway can be scraped. Pushers still reach the others and the alerts take the newest push of each job, but one more failure is an outage.');
const pushesRejected = alert('PushgatewayPushesRejected', { ...GATEWAY, severity: 'warning' }, 'Pushgateway monitoring/pushgateway rejects pushes',
  'Pushgateway monitoring/pushgateway answered pushes with a 4xx status in the last 1h: malformed or inconsistent pushes never reach a group, so some job\'s results are missing.');

describe.skipIf(!promtool)('alert rules under promtool', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'batch-alerts-'));
    writeFileSync(join(dir, 'rules.yml'), rulesFile());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** promtool's whole output; its exit status and output make the test fail loudly. */
  function run(args: string[]): string {
    const res = spawnSync(promtool!, args, { cwd: dir, encoding: 'utf8' });
    const output = `${res.stdout}${res.stderr}`;
    if (res.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (exit ${res.status ?? res.signal}):\n${output}`);
    return output;
  }

  function promtoolTest(name: string, test: { input_series: unknown[]; alert_rule_test: unknown[] }): void {
    const file = `${name}.test.yml`;
    writeFileSync(join(dir, file), stringify({
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: test.input_series, alert_rule_test: test.alert_rule_test }],
    }));
    expect(run(['test', 'rules', file])).toContain('SUCCESS');
  }

  it('promtool check rules accepts the synthesized groups', () => {
    // 6 declaration rules (info, 3 thresholds, CronJobs, declaration times) for any number of jobs, 5 Pushgateway alerts (with replicas),
    // 5 job records and 4 job alerts.
    expect(run(['check', 'rules', 'rules.yml'])).toContain('SUCCESS: 20 rules found');
  });

  it('promtool check rules accepts the PrometheusRule committed in dist/', () => {
    const docs = parseAllDocuments(readFileSync(join(__dirname, '../../dist/batch-monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const groups = docs.filter((d) => d?.kind === 'PrometheusRule').flatMap((d) => d.spec.groups);
    writeFileSync(join(dir, 'dist-rules.yml'), stringify({ groups }));
    // 4 jobs (3 examples + the cleanup) x 5 declaration records, the MonitoredCronJob's CronJob record, 3 Pushgateway alerts,
    // 5 job records and 4 job alerts
    expect(run(['check', 'rules', 'dist-rules.yml'])).toContain('SUCCESS: 34 rules found');
  });

  it('is silent on healthy data over a day and more', () => {
    const minutes = 25 * 60 + 30;
    promtoolTest('healthy', {
      input_series: [...healthyJobs(minutes), ...upSeries(minutes)],
      alert_rule_test: silent([10, 60, 6 * 60, 24 * 60 + 30, 25 * 60 + 30]),
    });
  });

  it('is silent across a Pushgateway pod replacement, and keeps a pending alert pending', () => {
    const minutes = 120;
    // The old pod serves until minute 30 (then its series go stale); the new one from minute 32.
    const pods: Pod[] = [{ name: 'pushgateway-7d9f-old', from: 0, to: 30 }, { name: 'pushgateway-7d9f-new', from: 32 }];
    promtoolTest('pod-replacement', {
      input_series: [
        ...healthyJobs(minutes, pods, ['data-processing']),
        // data-processing fails at minute 28: pending from 28, firing at 33 only if the
        // replacement did not reset it.
        ...jobSeries('data-processing', [{ at: 1, success: true }, { at: 28, success: false }], minutes, pods),
        ...upSeries(minutes, pods),
      ],
      alert_rule_test: [
        ...silent([25, 31, 33, 36, 60], ALERTS.filter((a) => a !== 'BatchJobFailure')),
        { eval_time: '32m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '33m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:28:00 +0000 UTC')] },
      ],
    });
  });

  it('BatchJobFailure fires after its `for` and clears on the next success', () => {
    const minutes = 60;
    promtoolTest('failure', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [{ at: 1, success: true }, { at: 10, success: false }, { at: 30, success: true }], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '9m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '14m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '15m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:10:00 +0000 UTC')] },
        { eval_time: '30m', alertname: 'BatchJobFailure', exp_alerts: [] },
        ...silent([15, 30], ['BatchJobNotRunning', 'BatchJobDurationHigh', 'BatchJobPushFailed']),
      ],
    });
  });

  it('BatchJobFailure ignores a failed run superseded by a later successful run in another group, and fires when the latest group failed', () => {
    const minutes = 90;
    const g = (id: string) => ({ job_id: id });
    promtoolTest('superseded', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [
          { at: 5, success: false, group: g('run-1') },
          { at: 10, success: true, group: g('run-2') },
          { at: 40, success: false, group: g('run-3') },
        ], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        // run-1 alone: pending, never firing, because run-2 supersedes it at minute 10.
        { eval_time: '9m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '30m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '45m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:40:00 +0000 UTC')] },
      ],
    });
  });

  it('BatchJobFailure works for a job name that needs escaping in PromQL', () => {
    const minutes = 30;
    promtoolTest('escaping', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, [WEIRD]),
        ...jobSeries(WEIRD, [{ at: 1, success: false }], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '10m', alertname: 'BatchJobFailure', exp_alerts: [failed({ job: WEIRD, namespace: NS }, '1970-01-01 00:01:00 +0000 UTC')] },
      ],
    });
  });

  it('BatchJobDurationHigh fires on a slow latest run and ignores an older slow group', () => {
    const minutes = 60;
    promtoolTest('duration', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [
          { at: 1, success: true, duration: 900, group: { job_id: 'run-1' } },
          { at: 20, success: true, duration: 60, group: { job_id: 'run-2' } },
        ], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: 'BatchJobDurationHigh', exp_alerts: [] },
        { eval_time: '6m', alertname: 'BatchJobDurationHigh', exp_alerts: [tooSlow(DATA, '15m 0s', '10m 0s')] },
        { eval_time: '20m', alertname: 'BatchJobDurationHigh', exp_alerts: [] },
        { eval_time: '40m', alertname: 'BatchJobDurationHigh', exp_alerts: [] },
      ],
    });
  });

  it('BatchJobNotRunning fires when no success arrives within interval plus grace, and clears on success', () => {
    const minutes = 150;
    // data-processing: every 1h, grace 15m; last success at minute 1 (failures after it do not count).
    promtoolTest('not-running', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [{ at: 1, success: true }, { at: 61, success: false }, { at: 121, success: true }], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '76m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '81m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        {
          eval_time: '82m',
          alertname: 'BatchJobNotRunning',
          exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')],
        },
        { eval_time: '121m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
      ],
    });
  });

  it('BatchJobNotRunning stays silent on install day until the deadline has passed since the rules were loaded, then says "never reported"', () => {
    // The rules load at time 0; daily-backup (every 1d, 2h grace) never reports.
    const minutes = 26 * 60 + 10;
    promtoolTest('install-day', {
      input_series: [...healthyJobs(minutes, ONE_POD, ['daily-backup']), ...upSeries(minutes)],
      alert_rule_test: [
        { eval_time: '5m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '24h', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        // Past the deadline from minute 1561 (26h 1m), firing after the 5m `for`.
        { eval_time: '1565m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        {
          eval_time: '1566m',
          alertname: 'BatchJobNotRunning',
          exp_alerts: [neverReported({ job: 'daily-backup', namespace: NS }, '1d 2h 6m 0s', '1d 0h 0m 0s', '1d 2h 0m 0s')],
        },
      ],
    });
  });

  it('a never-reported job run by a CronJob counts its deadline from the CronJob\'s creation when that is later than the rules\' load', () => {
    const minutes = 120;
    const created = { series: seriesName('kube_cronjob_created', { job: 'kube-state-metrics', namespace: 'reports', cronjob: 'report-export', instance: '10.0.0.9:8443' }),
      values: values(minutes, { name: 'ksm', from: 30 }, () => 1800) };
    const job = { job: 'report-export', namespace: 'reports' };
    promtoolTest('cronjob-created', {
      input_series: [...healthyJobs(minutes, ONE_POD, ['report-export']), ...upSeries(minutes), created],
      alert_rule_test: [
        // From the rules' load (minute 0) it would fire at 81; the CronJob was created at minute 30.
        { eval_time: '100m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '110m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '111m', alertname: 'BatchJobNotRunning', exp_alerts: [neverReported(job, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
      ],
    });
  });

  it('a Pushgateway outage of hours fires PushgatewayDown, not BatchJobNotRunning, and the jobs get their deadline again from its end', () => {
    const minutes = 300;
    // The pod serves until minute 30, is unreachable (up 0) until 210, then a new one serves the persisted groups.
    const pods: Pod[] = [{ name: 'pushgateway-old', from: 0, to: 30 }, { name: 'pushgateway-new', from: 210 }];
    const up = [
      { series: seriesName('up', { job: 'pushgateway', instance: '10.0.0.1:9091', ...targetLabels(pods[0]) }), values: values(minutes, { name: 'x', from: 0, to: 210 }, (m) => (m < 30 ? 1 : 0)) },
      ...upSeries(minutes, [pods[1]]),
    ];
    // Hourly jobs succeed at minute 1, then not again until 241 (data-processing never again).
    const runs = (job: string, after: boolean) => jobSeries(job, [{ at: 1, success: true }, ...(after ? [{ at: 241, success: true }] : [])], minutes, pods);
    promtoolTest('gateway-outage', {
      input_series: [
        ...jobSeries('daily-backup', [{ at: 1, success: true }], minutes, pods),
        ...runs('data-processing', false), ...runs(WEIRD, true), ...runs('etl-load', true), ...runs('report-export', true),
        ...up,
      ],
      alert_rule_test: [
        { eval_time: '35m', alertname: 'PushgatewayDown', exp_alerts: [gatewayDown] },
        { eval_time: '200m', alertname: 'PushgatewayDown', exp_alerts: [gatewayDown] },
        { eval_time: '215m', alertname: 'PushgatewayDown', exp_alerts: [] },
        // Without the outage, the hourly jobs would be overdue from minute 77.
        ...silent([80, 120, 200, 215, 250, 285], ['BatchJobNotRunning', 'BatchJobFailure']),
        // data-processing's deadline counts from the end of the outage (last seen at 209): firing at 209 + 75 + 1 + 5.
        { eval_time: '289m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '290m', alertname: 'BatchJobNotRunning', exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
      ],
    });
  });

  it('BatchJobNotRunning keeps the last success of a group the cleanup deleted: overdue, not "never reported"', () => {
    const minutes = 90;
    const deleted: Pod = { name: ONE_POD[0].name, from: 0, to: 20 };
    promtoolTest('group-deleted', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [{ at: 1, success: true }], minutes, [deleted]),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '60m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '81m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '82m', alertname: 'BatchJobNotRunning', exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
      ],
    });
  });

  it('replicas: the newest push wins; a replica that missed a push or returns with old data neither raises nor clears BatchJobFailure', () => {
    const minutes = 100;
    const a: Pod = { name: 'pushgateway-0', from: 0 };
    const b: Pod = { name: 'pushgateway-1', from: 0 };
    // Replica a is away from minute 30 to 60 and misses the failed run of minute 40; it comes back with its older success.
    const aAway: Pod = { name: 'pushgateway-0', from: 0 };
    const aSeries = jobSeries('data-processing', [{ at: 10, success: true }, { at: 80, success: true }], minutes, [aAway])
      .map((s) => ({ ...s, values: s.values.split(' ').map((v, m) => (m >= 30 && m < 60 ? (m === 30 ? 'stale' : '_') : v)).join(' ') }));
    promtoolTest('replicas-failure', {
      input_series: [
        ...healthyJobs(minutes, [a, b], ['data-processing']),
        ...aSeries,
        ...jobSeries('data-processing', [{ at: 10, success: true }, { at: 40, success: false }, { at: 80, success: true }], minutes, [b]),
        ...upSeries(minutes, [a, b]),
      ],
      alert_rule_test: [
        { eval_time: '44m', alertname: 'BatchJobFailure', exp_alerts: [] },
        { eval_time: '45m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:40:00 +0000 UTC')] },
        // a is back with its success of minute 10: older than b's failure, the alert stays.
        { eval_time: '70m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:40:00 +0000 UTC')] },
        { eval_time: '80m', alertname: 'BatchJobFailure', exp_alerts: [] },
        ...silent([20, 45, 70, 90], ['BatchJobNotRunning', 'BatchJobDurationHigh', 'BatchJobPushFailed', 'PushgatewayDown']),
      ],
    });
  });

  it('replicas: a replica that missed a success does not make the job overdue', () => {
    const minutes = 150;
    const a: Pod = { name: 'pushgateway-0', from: 0 };
    const b: Pod = { name: 'pushgateway-1', from: 0 };
    promtoolTest('replicas-missed-success', {
      input_series: [
        ...healthyJobs(minutes, [a, b], ['data-processing']),
        // a last got a success at minute 1; b got every hourly success.
        ...jobSeries('data-processing', [{ at: 1, success: true }], minutes, [a]),
        ...jobSeries('data-processing', [{ at: 1, success: true }, { at: 61, success: true }, { at: 121, success: true }], minutes, [b]),
        ...upSeries(minutes, [a, b]),
      ],
      alert_rule_test: silent([80, 100, 140], ['BatchJobNotRunning', 'BatchJobFailure']),
    });
  });

  it('PushgatewayReplicaDown fires when one of two replicas is down, PushgatewayDown only when both are', () => {
    const minutes = 60;
    const a: Pod = { name: 'pushgateway-0', from: 0 };
    const b: Pod = { name: 'pushgateway-1', from: 0 };
    promtoolTest('replica-down', {
      input_series: [
        ...healthyJobs(minutes, [a, b]),
        { series: seriesName('up', { job: 'pushgateway', instance: '10.0.0.1:9091', ...targetLabels(a) }), values: values(minutes, a, (m) => (m < 30 ? 1 : 0)) },
        { series: seriesName('up', { job: 'pushgateway', instance: '10.0.0.2:9091', ...targetLabels(b) }), values: values(minutes, b, (m) => (m < 10 ? 1 : 0)) },
      ],
      alert_rule_test: [
        { eval_time: '14m', alertname: 'PushgatewayReplicaDown', exp_alerts: [] },
        { eval_time: '15m', alertname: 'PushgatewayReplicaDown', exp_alerts: [replicaDown] },
        { eval_time: '25m', alertname: 'PushgatewayDown', exp_alerts: [] },
        { eval_time: '35m', alertname: 'PushgatewayDown', exp_alerts: [gatewayDown] },
        { eval_time: '35m', alertname: 'PushgatewayReplicaDown', exp_alerts: [] },
      ],
    });
  });

  it('a job of another namespace carries its own namespace and severity, so no other job\'s alert can inhibit it', () => {
    const minutes = 30;
    promtoolTest('own-namespace', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['etl-load', 'data-processing']),
        ...jobSeries('etl-load', [{ at: 1, success: false }], minutes),
        ...jobSeries('data-processing', [{ at: 1, success: false }], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [{
        eval_time: '10m',
        alertname: 'BatchJobFailure',
        exp_alerts: [
          failed(DATA, '1970-01-01 00:01:00 +0000 UTC'),
          alert('BatchJobFailure', { job: 'etl-load', namespace: 'etl', severity: 'warning' }, 'Batch job etl-load failed',
            'The most recent run of batch job etl-load reported failure (batch_job_success 0, pushed at 1970-01-01 00:01:00 +0000 UTC). The alert clears when a later run succeeds.'),
        ],
      }],
    });
  });

  it('BatchJobPushFailed fires per group when a push was rejected after the last success, and clears on a good push', () => {
    const minutes = 40;
    const labels = { job: 'nightly-export', job_id: 'run-7', ...targetLabels(ONE_POD[0]) };
    const at = (m: number, before: number, after: number) => (m < 10 ? before : after);
    promtoolTest('push-failed', {
      input_series: [
        ...healthyJobs(minutes),
        ...upSeries(minutes),
        { series: seriesName('push_time_seconds', labels), values: values(minutes, ONE_POD[0], (m) => (m < 25 ? 60 : 1500)) },
        { series: seriesName('push_failure_time_seconds', labels), values: values(minutes, ONE_POD[0], (m) => at(m, 0, 600)) },
      ],
      alert_rule_test: [
        { eval_time: '14m', alertname: 'BatchJobPushFailed', exp_alerts: [] },
        {
          eval_time: '15m',
          alertname: 'BatchJobPushFailed',
          exp_alerts: [alert('BatchJobPushFailed', { job: 'nightly-export', job_id: 'run-7', namespace: NS, severity: 'warning' },
            'Pushes of batch job nightly-export are rejected',
            'Pushgateway monitoring/pushgateway rejected a push to a group of job nightly-export at 1970-01-01 00:10:00 +0000 UTC, later than its last successful push: the group keeps the metrics of that earlier push, if any.')],
        },
        { eval_time: '25m', alertname: 'BatchJobPushFailed', exp_alerts: [] },
      ],
    });
  });

  it('PushgatewayDown fires when the target is down', () => {
    const minutes = 30;
    promtoolTest('gateway-down', {
      input_series: [...healthyJobs(minutes), ...upSeries(minutes, ONE_POD, (m) => (m < 10 ? 1 : 0))],
      alert_rule_test: [
        { eval_time: '14m', alertname: 'PushgatewayDown', exp_alerts: [] },
        {
          eval_time: '15m',
          alertname: 'PushgatewayDown',
          exp_alerts: [gatewayDown],
        },
      ],
    });
  });

  it('PushgatewayDown fires when the target is missing', () => {
    const minutes = 30;
    promtoolTest('gateway-absent', {
      input_series: [
        ...healthyJobs(minutes),
        // Another Pushgateway's target in another namespace does not count.
        { series: seriesName('up', { job: 'pushgateway', namespace: 'other', instance: '10.0.9.9:9091' }), values: '1x30' },
      ],
      alert_rule_test: [
        { eval_time: '4m', alertname: 'PushgatewayDown', exp_alerts: [] },
        { eval_time: '5m', alertname: 'PushgatewayDown', exp_alerts: [gatewayDown] },
      ],
    });
  });

  it('BatchCronJobNoRecentSuccess fires on an old last success, on a CronJob that never succeeded, and not when suspended', () => {
    const ksm = (metric: string, cronjob: string, v: string) => ({
      series: seriesName(metric, { job: 'kube-state-metrics', namespace: 'reports', cronjob, instance: '10.0.0.9:8443' }),
      values: v,
    });
    const cron = (cronjob: string) => ({ cronjob, namespace: 'reports', severity: 'warning' });
    const described = (cronjob: string, since: string) => ({
      exp_labels: cron(cronjob),
      exp_annotations: {
        summary: `CronJob reports/${cronjob} has not succeeded in time`,
        description: `CronJob reports/${cronjob} has had no successful Job for ${since} (kube-state-metrics); it is expected to succeed within 1h 15m 0s. `
          + 'Its pods may not even start: check its Jobs and events.',
        runbook_url: `${RUNBOOKS}#batchcronjobnorecentsuccess`,
      },
    });
    promtoolTest('cronjob-no-recent-success', {
      input_series: [
        // Created at time 0 and never succeeded.
        ksm('kube_cronjob_created', 'nightly-report', '0+0x150'),
        ksm('kube_cronjob_spec_suspend', 'nightly-report', '0+0x150'),
        // Last succeeded at minute 60.
        ksm('kube_cronjob_created', 'hourly-export', '0+0x150'),
        ksm('kube_cronjob_status_last_successful_time', 'hourly-export', '_x60 3600+0x90'),
        ksm('kube_cronjob_spec_suspend', 'hourly-export', '0+0x150'),
        // Never succeeded, but suspended.
        ksm('kube_cronjob_created', 'paused', '0+0x150'),
        ksm('kube_cronjob_spec_suspend', 'paused', '1+0x150'),
      ],
      alert_rule_test: [
        { eval_time: '70m', alertname: 'BatchCronJobNoRecentSuccess', exp_alerts: [] },
        { eval_time: '85m', alertname: 'BatchCronJobNoRecentSuccess', exp_alerts: [described('nightly-report', '1h 25m 0s')] },
        // hourly-export: over the threshold from minute 135 on, firing after its 5m `for`.
        { eval_time: '139m', alertname: 'BatchCronJobNoRecentSuccess', exp_alerts: [described('nightly-report', '2h 19m 0s')] },
        { eval_time: '145m', alertname: 'BatchCronJobNoRecentSuccess', exp_alerts: [described('hourly-export', '1h 25m 0s'), described('nightly-report', '2h 25m 0s')] },
      ],
    });
  });

  it('PushgatewayNearCapacity fires past 80 % of the memory limit, per pod, and not for a few groups', () => {
    const minutes = 40;
    const pods: Pod[] = [{ name: 'pushgateway-0', from: 0 }, { name: 'pushgateway-1', from: 0 }];
    const mib = 2 ** 20;
    // pushgateway-0: 100 groups, 100 MiB; pushgateway-1: 100 groups, its memory going from 200 to
    // 330 MiB of a 384 Mi limit at minute 20 (86 %). The groups share (count against 10,000) is
    // the same expression; the thousands of series it takes to cross it are more than promtool's
    // sample limit lets the other rules read.
    const groups = (pod: Pod, count: number, from: number) => Array.from({ length: count }, (_, i) => ({
      series: seriesName('push_time_seconds', { job: `run-${i}`, instance: '', ...targetLabels(pod) }),
      values: values(minutes, pod, (m) => (m < from ? undefined : 1000)),
    }));
    const own = (pod: Pod, metric: string, v: (m: number) => number) => ({
      series: seriesName(metric, { job: 'pushgateway', instance: '10.0.0.1:9091', ...targetLabels(pod) }), values: values(minutes, pod, v),
    });
    const limit = (pod: Pod) => ({
      series: seriesName('kube_pod_container_resource_limits', {
        job: 'kube-state-metrics', instance: '10.0.0.9:8443', namespace: NS, pod: pod.name, container: 'pushgateway', resource: 'memory', unit: 'byte',
      }),
      values: `${384 * mib}+0x${minutes}`,
    });
    const near = (pod: string, share: string) => ({
      exp_labels: { namespace: NS, pod, severity: 'warning' },
      exp_annotations: {
        summary: 'Pushgateway monitoring/pushgateway is near its capacity',
        description: `Pushgateway pod ${pod} of monitoring/pushgateway is at ${share} of its capacity (the larger of: groups held against 10,000, `
          + 'resident memory against its container\'s memory limit). Pushes and scrapes slow down as groups pile up, and past the memory limit it is killed: '
          + 'let the cleanup reclaim groups, or give it more memory and CPU.',
        runbook_url: `${RUNBOOKS}#pushgatewaynearcapacity`,
      },
    });
    promtoolTest('near-capacity', {
      input_series: [
        ...groups(pods[0], 100, 0),
        ...groups(pods[1], 100, 0),
        own(pods[0], 'process_resident_memory_bytes', () => 100 * mib),
        own(pods[1], 'process_resident_memory_bytes', (m) => (m < 20 ? 200 : 330) * mib),
        limit(pods[0]),
        limit(pods[1]),
      ],
      alert_rule_test: [
        { eval_time: '19m', alertname: 'PushgatewayNearCapacity', exp_alerts: [] },
        { eval_time: '34m', alertname: 'PushgatewayNearCapacity', exp_alerts: [] },
        { eval_time: '36m', alertname: 'PushgatewayNearCapacity', exp_alerts: [near('pushgateway-1', '85.94%')] },
      ],
    });
  });

  it('PushgatewayPushesRejected fires on the first 4xx push and on later ones, not on 2xx', () => {
    const minutes = 150;
    const requests = (code: string, method: string) => seriesName('pushgateway_http_requests_total',
      { job: 'pushgateway', instance: '10.0.0.1:9091', ...targetLabels(ONE_POD[0]), handler: 'push', code, method });
    promtoolTest('pushes-rejected', {
      input_series: [
        ...healthyJobs(minutes),
        ...upSeries(minutes),
        { series: requests('200', 'post'), values: '0+5x150' },
        // The first rejected push creates the series at minute 10 with value 1.
        { series: requests('400', 'put'), values: values(minutes, ONE_POD[0], (m) => (m < 10 ? undefined : m < 120 ? 1 : 2)) },
      ],
      alert_rule_test: [
        { eval_time: '9m', alertname: 'PushgatewayPushesRejected', exp_alerts: [] },
        { eval_time: '14m', alertname: 'PushgatewayPushesRejected', exp_alerts: [] },
        {
          eval_time: '15m',
          alertname: 'PushgatewayPushesRejected',
          exp_alerts: [pushesRejected],
        },
        // An hour after the only rejection, quiet again; a second rejection at minute 120 fires again.
        { eval_time: '115m', alertname: 'PushgatewayPushesRejected', exp_alerts: [] },
        { eval_time: '125m', alertname: 'PushgatewayPushesRejected', exp_alerts: [pushesRejected] },
      ],
    });
  });
});
