import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  alert, ALERTS, DATA, failed, failure, healthyJobs, jobSeries, notRunning, ONE_POD, Pod, Promtool, promtool, PromtoolTest, rulesFile, Run, ScenarioOptions,
  seriesName, silent, upSeries, values,
} from '../helpers/alert-scenarios';

/*
 * Runs that go wrong whatever the data says (issue 19), on the synthesized rules under promtool:
 * timestamps the Pushgateway's clock cannot confirm, runs that never push (seen by
 * kube-state-metrics), runs that hang, two wrapped containers, and how the alerts say what happened.
 * Minute m is time() = 60 * m.
 */

const REPORTS = { job: 'report-export', namespace: 'reports' };
const IMPORT = { job: 'hourly-import', namespace: 'reports' };

/** A Kubernetes Job of a CronJob, as kube-state-metrics exposes it (series written from its documented names). */
interface KubeJob {
  readonly cronjob: string;
  readonly name: string;
  /** Minute it started (its pod active from then). */
  readonly started: number;
  /** Minute it completed successfully, or failed with `reason`. */
  readonly completed?: number;
  readonly failed?: number;
  readonly reason?: 'BackoffLimitExceeded' | 'DeadlineExceeded';
  /** Minute its container was OOM-killed (the pod's terminated reason). */
  readonly oomKilled?: number;
  /** Minute the Job object was deleted (history limit, or by hand): its series go stale. */
  readonly deleted?: number;
}

function kubeJobSeries(minutes: number, job: KubeJob) {
  const namespace = 'reports';
  const alive: Pod = { name: job.name, from: job.started, to: job.deleted };
  const ksm = (metric: string, labels: Record<string, string>, f: (m: number) => number | undefined, pod = alive) => ({
    series: seriesName(metric, { job: 'kube-state-metrics', instance: '10.0.0.9:8443', namespace, ...labels }),
    values: values(minutes, pod, f),
  });
  const ended = job.completed ?? job.failed;
  const pod = `${job.name}-x7k2p`;
  return [
    ksm('kube_job_owner', { job_name: job.name, owner_kind: 'CronJob', owner_name: job.cronjob, owner_is_controller: 'true' }, () => 1),
    ksm('kube_job_status_start_time', { job_name: job.name }, () => job.started * 60),
    ksm('kube_job_status_active', { job_name: job.name }, (m) => (ended === undefined || m < ended ? 1 : 0)),
    ksm('kube_job_failed', { job_name: job.name, condition: 'true' }, (m) => (job.failed !== undefined && m >= job.failed ? 1 : 0)),
    ...['BackoffLimitExceeded', 'DeadlineExceeded', 'Evicted'].map((reason) => ksm('kube_job_status_failed', { job_name: job.name, reason },
      (m) => (job.failed !== undefined && m >= job.failed ? (reason === job.reason ? 1 : 0) : undefined))),
    ksm('kube_pod_owner', { pod, owner_kind: 'Job', owner_name: job.name, owner_is_controller: 'true' }, () => 1),
    ...(job.oomKilled === undefined ? [] : [ksm('kube_pod_container_status_terminated_reason', { pod, container: 'main', reason: 'OOMKilled' },
      (m) => (m >= job.oomKilled! ? 1 : undefined))]),
  ];
}

/** Hourly successes at minute 1, 61, ... (as healthyJobs pushes them), and `more`. */
function hourly(minutes: number, more: Run[] = [], until = minutes): Run[] {
  return [...Array.from({ length: Math.floor(until / 60) + 1 }, (_, h) => ({ at: h * 60 + 1, success: true })).filter((r) => r.at <= until), ...more];
}

function badTimestamp(labels: Record<string, string>, value: string) {
  return alert('BatchJobBadTimestamp', { ...labels, severity: 'warning' }, `Batch job ${labels.job} pushes a bad last-success timestamp`,
    `Batch job ${labels.job} pushed batch_job_last_success_timestamp_seconds ${value}, more than 5 minutes after its push by the Pushgateway's clock `
    + '(a clock ahead, milliseconds instead of seconds, +Inf), or NaN. The rules ignore it and take the job\'s last success from the time of its pushes; '
    + 'fix the client so that the dashboard and other readers see the right time.');
}

function runningTooLong(labels: Record<string, string>, since: string) {
  return alert('BatchJobRunningTooLong', { ...labels, severity: 'warning' }, `Batch job ${labels.job} has been running longer than its max duration`,
    `A run of batch job ${labels.job} started ${since} ago and has not finished; its maximum is 10m 0s. `
    + 'It may hang, wait for a resource, or be stuck before it starts (image pull, scheduling). The alert clears when the run ends.');
}

describe.skipIf(!promtool)('runs that go wrong, whatever the data says (promtool)', () => {
  let rules: Promtool;
  beforeAll(() => {
    rules = new Promtool(promtool!, rulesFile());
  });
  afterAll(() => rules.dispose());
  const test = (name: string, t: PromtoolTest, opts: ScenarioOptions = {}) => rules.test(name, t, opts);

  describe('a pushed last-success timestamp never counts beyond the Pushgateway\'s clock', () => {
    // data-processing: hourly, 15 minutes' grace; one success at minute 1 whose pushed timestamp is
    // bad, then nothing. The old rules kept the bad value as the last success for good.
    const minutes = 100;
    const once = (pushedTimestamp: (t: number) => number | string): PromtoolTest => ({
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        ...jobSeries('data-processing', [{ at: 1, success: true, pushedTimestamp }], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [],
    });
    const overdue = { eval_time: '82m', alertname: 'BatchJobNotRunning', exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] };
    const cases: Array<[string, (t: number) => number | string, string]> = [
      ['milliseconds', (t) => t * 1000, '60000'],
      ['+Inf', () => '+Inf', '+Inf'],
      ['a clock a day ahead', (t) => t + 86_400, '86460'],
    ];
    for (const [what, pushed, shown] of cases) {
      it(`${what}: ignored, named by BatchJobBadTimestamp, and BatchJobNotRunning fires on time`, () => {
        test(`bad-timestamp-${what.replace(/\W+/g, '-')}`, {
          ...once(pushed),
          alert_rule_test: [
            { eval_time: '5m', alertname: 'BatchJobBadTimestamp', exp_alerts: [] },
            { eval_time: '6m', alertname: 'BatchJobBadTimestamp', exp_alerts: [badTimestamp(DATA, shown)] },
            { eval_time: '81m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
            overdue,
          ],
        });
      });
    }

    it('NaN: ignored and named', () => {
      test('bad-timestamp-nan', {
        ...once(() => 'NaN'),
        alert_rule_test: [{ eval_time: '6m', alertname: 'BatchJobBadTimestamp', exp_alerts: [badTimestamp(DATA, 'NaN')] }, overdue],
      });
    });

    it('a clock 2 hours behind does not page a healthy hourly job', () => {
      const late = 200;
      test('clock-behind', {
        input_series: [
          ...healthyJobs(late, ONE_POD, ['data-processing']),
          ...jobSeries('data-processing', hourly(late).map((r) => ({ ...r, pushedTimestamp: (t: number) => t - 7200 })), late),
          ...upSeries(late),
        ],
        alert_rule_test: silent([30, 80, 140, 200]),
      });
    });
  });

  describe('runs seen by Kubernetes (kube-state-metrics)', () => {
    it('a failed Job of the CronJob that pushed nothing fires BatchJobFailure with the reason, also after the Job is deleted, until a later run succeeds', () => {
      const minutes = 140;
      // report-export succeeded at minute 1; the run of minute 60 is OOM-killed with its wrapper
      // (nothing pushed) and fails at 70; its Job is deleted at 100; the next run succeeds at 121.
      test('kube-job-failed', {
        input_series: [
          ...healthyJobs(minutes, ONE_POD, ['report-export']),
          ...jobSeries('report-export', [{ at: 1, success: true }, { at: 121, success: true }], minutes),
          ...kubeJobSeries(minutes, { cronjob: 'report-export', name: 'report-export-29000060', started: 60, failed: 70, reason: 'BackoffLimitExceeded', oomKilled: 69, deleted: 100 }),
          ...upSeries(minutes),
        ],
        alert_rule_test: [
          { eval_time: '69m', alertname: 'BatchJobFailure', exp_alerts: [] },
          { eval_time: '74m', alertname: 'BatchJobFailure', exp_alerts: [] },
          ...[75, 110, 120].map((m) => ({
            eval_time: `${m}m`,
            alertname: 'BatchJobFailure',
            exp_alerts: [failure(REPORTS, ' Kubernetes Job reports/report-export-29000060, started at 1970-01-01 01:00:00 +0000 UTC, failed: OOMKilled.')],
          })),
          { eval_time: '121m', alertname: 'BatchJobFailure', exp_alerts: [] },
        ],
      }, { queryOffset: true });
    });

    it('a Job active past the max duration fires BatchJobRunningTooLong while active; killed at its deadline, BatchJobFailure says DeadlineExceeded', () => {
      const minutes = 140;
      // hourly-import (max duration 10m): the run of minute 61 hangs; the Job's activeDeadlineSeconds ends it at 100.
      test('kube-job-hung', {
        input_series: [
          ...healthyJobs(minutes, ONE_POD, ['hourly-import']),
          ...jobSeries('hourly-import', [{ at: 1, success: true }, { at: 121, success: true }], minutes),
          ...kubeJobSeries(minutes, { cronjob: 'hourly-import', name: 'hourly-import-29000061', started: 61, failed: 100, reason: 'DeadlineExceeded' }),
          ...upSeries(minutes),
        ],
        alert_rule_test: [
          { eval_time: '76m', alertname: 'BatchJobRunningTooLong', exp_alerts: [] },
          // Over its max duration from 71 (strictly more than 600 s at 72), firing 5 minutes later: by max duration + 10 minutes.
          { eval_time: '77m', alertname: 'BatchJobRunningTooLong', exp_alerts: [runningTooLong(IMPORT, '16m 0s')] },
          { eval_time: '99m', alertname: 'BatchJobRunningTooLong', exp_alerts: [runningTooLong(IMPORT, '38m 0s')] },
          { eval_time: '100m', alertname: 'BatchJobRunningTooLong', exp_alerts: [] },
          {
            eval_time: '105m',
            alertname: 'BatchJobFailure',
            exp_alerts: [failure(IMPORT, ' Kubernetes Job reports/hourly-import-29000061, started at 1970-01-01 01:01:00 +0000 UTC, failed: DeadlineExceeded.')],
          },
          { eval_time: '121m', alertname: 'BatchJobFailure', exp_alerts: [] },
        ],
      });
    });

    it('a healthy run seen by both the Pushgateway and Kubernetes fires nothing', () => {
      const minutes = 200;
      const runs = [0, 60, 120, 180].map((start) => ({ started: start, at: start + 2, success: true, exitCode: 0 }));
      test('kube-healthy', {
        input_series: [
          ...healthyJobs(minutes, ONE_POD, ['report-export']),
          ...jobSeries('report-export', runs, minutes),
          ...[0, 60, 120, 180].flatMap((start) => kubeJobSeries(minutes, { cronjob: 'report-export', name: `report-export-${29000000 + start}`, started: start, completed: start + 3 })),
          ...upSeries(minutes),
        ],
        alert_rule_test: silent([1, 2, 30, 62, 90, 150, 200]),
      });
    });
  });

  describe('a job without a CronJob: the hung run is seen through the wrapper\'s start push', () => {
    it('BatchJobRunningTooLong fires after the max duration by the Pushgateway\'s clock, and clears when the run ends', () => {
      const minutes = 120;
      test('push-hung', {
        input_series: [
          ...healthyJobs(minutes, ONE_POD, ['data-processing']),
          // Started at 61 (batch_job_running 1, the last result kept), finished only at 100.
          ...jobSeries('data-processing', [{ started: 0, at: 1, success: true, exitCode: 0 }, { started: 61, at: 100, success: true, exitCode: 0 }], minutes),
          ...upSeries(minutes),
        ],
        alert_rule_test: [
          { eval_time: '76m', alertname: 'BatchJobRunningTooLong', exp_alerts: [] },
          { eval_time: '77m', alertname: 'BatchJobRunningTooLong', exp_alerts: [runningTooLong(DATA, '16m 0s')] },
          { eval_time: '100m', alertname: 'BatchJobRunningTooLong', exp_alerts: [] },
          // The start push is no success: the last one is still minute 1.
          { eval_time: '82m', alertname: 'BatchJobNotRunning', exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
          ...silent([70, 90, 110], ALERTS.filter((a) => !['BatchJobRunningTooLong', 'BatchJobNotRunning'].includes(a))),
        ],
      });
    });
  });

  describe('what the alert says', () => {
    const minutes = 30;
    const cases: Array<[string, Partial<Run>, string]> = [
      ['the exit code', { exitCode: 3 }, ': exited 3'],
      ['the signal', { exitCode: 137, signal: 'SIGKILL' }, ': killed by SIGKILL'],
    ];
    for (const [what, run, how] of cases) {
      it(`BatchJobFailure gives ${what}`, () => {
        test(`says-${what.replace(/\W+/g, '-')}`, {
          input_series: [
            ...healthyJobs(minutes, ONE_POD, ['data-processing']),
            ...jobSeries('data-processing', [{ at: 1, success: true, exitCode: 0 }, { started: 9, at: 10, success: false, ...run }], minutes),
            ...upSeries(minutes),
          ],
          alert_rule_test: [{ eval_time: '15m', alertname: 'BatchJobFailure', exp_alerts: [failed(DATA, '1970-01-01 00:10:00 +0000 UTC', how)] }],
        });
      });
    }
  });

  it('two wrapped containers: the run failed when one container failed, though the other pushed success later', () => {
    const minutes = 100;
    const a = { batch_container: 'a' };
    const b = { batch_container: 'b' };
    test('two-containers', {
      input_series: [
        ...healthyJobs(minutes, ONE_POD, ['data-processing']),
        // Both succeed at minute 1; at 61 container a exits 1, b succeeds a minute later.
        ...jobSeries('data-processing', [
          { started: 0, at: 1, success: true, exitCode: 0, group: a }, { started: 60, at: 61, success: false, exitCode: 1, group: a },
          { started: 0, at: 1, success: true, exitCode: 0, group: b }, { started: 60, at: 62, success: true, exitCode: 0, group: b },
        ], minutes),
        ...upSeries(minutes),
      ],
      alert_rule_test: [
        { eval_time: '65m', alertname: 'BatchJobFailure', exp_alerts: [] },
        {
          eval_time: '66m',
          alertname: 'BatchJobFailure',
          exp_alerts: [failure(DATA, ' Container a of its most recent run pushed a failure at 1970-01-01 01:01:00 +0000 UTC: exited 1.')],
        },
        // Not every container succeeded since minute 1: overdue at 82, though b succeeded at 62.
        { eval_time: '82m', alertname: 'BatchJobNotRunning', exp_alerts: [notRunning(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
      ],
    });
  });
});
