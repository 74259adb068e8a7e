import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import {
  alert, ALERTS, DATA, failed, failure, gatewayDown, GRAFANA, healthyJobs, jobSeries, neverReported, notRunning, NS, ONE_POD, Pod, Promtool, promtool,
  PromtoolTest, pushesRejected, ScenarioOptions, replicaDown, RUNBOOKS, rulesFile, seriesName, silent, targetLabels, tooSlow, upSeries, values, WEIRD,
} from '../helpers/alert-scenarios';

describe.skipIf(!promtool)('alert rules under promtool', () => {
  let promtoolRules: Promtool;

  beforeAll(() => {
    promtoolRules = new Promtool(promtool!, rulesFile());
  });
  afterAll(() => promtoolRules.dispose());

  const run = (args: string[]) => promtoolRules.run(args);
  const promtoolTest = (name: string, test: PromtoolTest, opts: ScenarioOptions = {}) => promtoolRules.test(name, test, opts);

  it('promtool check rules accepts the synthesized groups', () => {
    // 6 declaration rules (info, 3 thresholds, CronJobs, declaration times) for any number of jobs, 5 Pushgateway alerts (with replicas),
    // 8 job records and 6 job alerts.
    expect(run(['check', 'rules', 'rules.yml'])).toContain('SUCCESS: 25 rules found');
  });

  it('promtool check rules accepts the PrometheusRule committed in dist/', () => {
    const docs = parseAllDocuments(readFileSync(join(__dirname, '../../dist/batch-monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    const groups = docs.filter((d) => d?.kind === 'PrometheusRule').flatMap((d) => d.spec.groups);
    promtoolRules.writeFile('dist-rules.yml', stringify({ groups }));
    // 6 declaration rules (info, 3 thresholds, the example MonitoredCronJob's CronJob deadline, declaration times), 4 Pushgateway alerts,
    // 8 job records and 6 job alerts
    expect(run(['check', 'rules', 'dist-rules.yml'])).toContain('SUCCESS: 24 rules found');
  });

  // One scenario, as a day of 1-minute evaluations is the costliest thing promtool does here; under
  // query_offset, install day is the hourly scenario below.
  it('is silent on healthy data over a day and more, while a daily job that never reports stays silent on install day until '
    + 'the deadline has passed since the rules were loaded, then says "never reported"', () => {
    // The rules load at time 0; daily-audit (every 1d, 2h grace) never reports, every other job is healthy.
    const minutes = 26 * 60 + 10;
    promtoolTest('a-day-and-install-day', {
      input_series: [...healthyJobs(minutes), ...upSeries(minutes)],
      alert_rule_test: [
        ...silent([10, 60, 6 * 60, 24 * 60 + 30, 25 * 60 + 30]),
        { eval_time: '5m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '24h', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        // Past the deadline from minute 1561 (26h 1m), firing after the 5m `for`.
        { eval_time: '1565m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        {
          eval_time: '1566m',
          alertname: 'BatchJobNotRunning',
          exp_alerts: [neverReported({ job: 'daily-audit', namespace: NS }, '1d 2h 6m 0s', '1d 0h 0m 0s', '1d 2h 0m 0s')],
        },
      ],
    });
  }, 300_000);

  it('an hourly job that never reports stays silent on install day until the deadline has passed since the rules were loaded, '
    + 'with and without query_offset', () => {
    // data-processing (every 1h, 15m grace) never reports: past the deadline from minute 76, firing after the 5m `for`.
    const minutes = 100;
    promtoolTest('install-day', {
      input_series: [...healthyJobs(minutes, ONE_POD, ['data-processing']), ...upSeries(minutes)],
      alert_rule_test: [
        ...silent([5, 60], ALERTS),
        { eval_time: '80m', alertname: 'BatchJobNotRunning', exp_alerts: [] },
        { eval_time: '81m', alertname: 'BatchJobNotRunning', exp_alerts: [neverReported(DATA, '1h 21m 0s', '1h 0m 0s', '1h 15m 0s')] },
      ],
    }, { queryOffset: true, queryOffsetShift: 0 });
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
    }, { queryOffset: true });
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
    }, { queryOffset: true });
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
    }, { queryOffset: true });
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
        ...runs('hourly-import', true),
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
    }, { queryOffset: true });
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
    }, { queryOffset: true });
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
    }, { queryOffset: true });
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
    }, { queryOffset: true });
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
          failure({ job: 'etl-load', namespace: 'etl' }, ' Its most recent run pushed a failure at 1970-01-01 00:01:00 +0000 UTC.', 'warning'),
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
        dashboard_url: `${GRAFANA}/d/batch-jobs`,
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
        dashboard_url: `${GRAFANA}/d/batch-jobs`,
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
