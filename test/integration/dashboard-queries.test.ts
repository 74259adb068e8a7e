import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BatchMonitoringChart } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { synth } from '../helpers/synth';

/**
 * Evaluates the dashboard's queries with promtool's PromQL engine against series shaped like a
 * Pushgateway scrape (honorLabels, target labels of two successive Pushgateway pods), the way
 * Grafana sends them with the job variable on "All".
 */
const promtool = findBinary('promtool', 'prometheus');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-queries-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const chart = new BatchMonitoringChart(new App(), 'batch-monitoring', { cleanupEnabled: false });
chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
chart.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
const dashboard = JSON.parse(chart.dashboard.dashboardJson());
const allValue = dashboard.templating.list.find((v: any) => v.name === 'job').allValue;

/** The query `refId` of panel `title`, with the variables as Grafana fills them in. */
function query(title: string, refId = 'A'): string {
  const expr = dashboard.panels.find((p: any) => p.title === title).targets.find((t: any) => t.refId === refId).expr;
  return expr.replaceAll('$job', allValue).replaceAll('$__rate_interval', '5m');
}

// promtool's clock starts at Unix time 0; samples every minute for 26h.
const T = '1m';
const EVAL = '25h'; // time() = 90000
const pod = (name: string) => `namespace="monitoring",service="pushgateway",endpoint="http",container="pushgateway",pod="${name}"`;
// After a Pushgateway restart the same group shows up under the new pod: queries must merge them.
const OLD = pod('pushgateway-old');
const NEW = pod('pushgateway-new');
const series = (name: string, labels: string, values: string) => ({ series: `${name}{${labels}}`, values });

const inputSeries = [
  // daily-backup: last success at 1 -> 25h ago: past its 24h interval, within its 2h grace: late.
  // Its last push (86400) started a run (batch_job_running 1, the last result kept), so the time of
  // that success is the pushed timestamp, not that push's (the rules' success time; 0 means never).
  series('batch_job_last_success_timestamp_seconds', `job="daily-backup",${OLD}`, '1x1560'),
  series('batch_job_last_success_timestamp_seconds', `job="daily-backup",${NEW}`, '1x1560'),
  series('batch_job_success', `job="daily-backup",${NEW}`, '1x1560'),
  series('batch_job_running', `job="daily-backup",${NEW}`, '1x1560'),
  series('batch_job_duration_seconds', `job="daily-backup",${NEW}`, '240x1560'),
  // data-processing: last success 25h ago with a 1h interval: overdue; its last run failed and was slow
  series('batch_job_last_success_timestamp_seconds', `job="data-processing",instance="worker-1",${NEW}`, '1x1560'),
  series('batch_job_success', `job="data-processing",instance="worker-1",${NEW}`, '0x1560'),
  series('batch_job_duration_seconds', `job="data-processing",instance="worker-1",${NEW}`, '900x1560'),
  // log-cleanup: succeeded 1000 s before the evaluation: on time
  series('batch_job_last_success_timestamp_seconds', `job="log-cleanup",${NEW}`, '89000x1560'),
  series('batch_job_success', `job="log-cleanup",${NEW}`, '1x1560'),
  series('batch_job_duration_seconds', `job="log-cleanup",${NEW}`, '60x1560'),
  // not registered with the chart: shown, but without thresholds
  series('batch_job_last_success_timestamp_seconds', `job="adhoc",${NEW}`, '1x1560'),
  series('batch_job_duration_seconds', `job="adhoc",${NEW}`, '1x1560'),
  series('push_time_seconds', `job="adhoc",${NEW}`, '50000x1560'),
  series('push_time_seconds', `job="log-cleanup",${NEW}`, '89000x1560'),
  // Pushgateway groups: one fine, one whose last push failed, one only ever rejected (push_time 0)
  series('push_time_seconds', `job="daily-backup",${NEW}`, '86400x1560'),
  series('push_failure_time_seconds', `job="daily-backup",${NEW}`, '0x1560'),
  series('push_time_seconds', `job="data-processing",instance="worker-1",${NEW}`, '80000x1560'),
  series('push_failure_time_seconds', `job="data-processing",instance="worker-1",${NEW}`, '85000x1560'),
  series('push_time_seconds', `job="broken",${NEW}`, '0x1560'),
  series('push_failure_time_seconds', `job="broken",${NEW}`, '88000x1560'),
  // another Pushgateway's groups stay out
  series('push_time_seconds', 'job="daily-backup",namespace="other",service="pushgateway",pod="x"', '1x1560'),
  // the Pushgateway's own series: up, and one rejected push a minute
  series('up', `job="pushgateway",instance="10.0.0.1:9091",${NEW}`, '1x1560'),
  series('pushgateway_http_requests_total', `job="pushgateway",instance="10.0.0.1:9091",code="400",handler="push",method="post",${NEW}`, '0+1x1560'),
  series('pushgateway_http_requests_total', `job="pushgateway",instance="10.0.0.1:9091",code="200",handler="push",method="post",${NEW}`, '0+5x1560'),
];

const sample = (labels: string, value: number) => ({ labels, value });

const cases: Array<{ what: string; expr: string; exp: Array<{ labels: string; value: number }> }> = [
  { what: 'last result', expr: query('Jobs', 'A'),
    exp: [sample('{job="daily-backup"}', 1), sample('{job="data-processing"}', 0), sample('{job="log-cleanup"}', 1)] },
  { what: 'last success time in ms', expr: query('Jobs', 'B'),
    exp: [sample('{job="adhoc"}', 1000), sample('{job="daily-backup"}', 1000), sample('{job="data-processing"}', 1000), sample('{job="log-cleanup"}', 89000000)] },
  { what: 'time since last success', expr: query('Jobs', 'C'),
    exp: [sample('{job="adhoc"}', 89999), sample('{job="daily-backup"}', 89999), sample('{job="data-processing"}', 89999), sample('{job="log-cleanup"}', 1000)] },
  { what: 'schedule: on time 0, late 1, overdue 2, per job', expr: query('Jobs', 'D'),
    exp: [sample('{job="daily-backup"}', 1), sample('{job="data-processing"}', 2), sample('{job="log-cleanup"}', 0)] },
  { what: 'last duration', expr: query('Jobs', 'E'),
    exp: [sample('{job="adhoc"}', 1), sample('{job="daily-backup"}', 240), sample('{job="data-processing"}', 900), sample('{job="log-cleanup"}', 60)] },
  { what: 'last duration of max duration', expr: query('Jobs', 'F'),
    exp: [sample('{job="daily-backup"}', 0.8), sample('{job="data-processing"}', 1.5), sample('{job="log-cleanup"}', 0.2)] },
  { what: 'max duration lines, for jobs with runs only', expr: query('Run duration', 'B'),
    exp: [sample('{job="daily-backup"}', 300), sample('{job="data-processing"}', 600), sample('{job="log-cleanup"}', 300)] },
  { what: 'last push age per group, without target labels, without never-successful groups', expr: query('Last push age per group'),
    exp: [sample('{job="adhoc"}', 40000), sample('{job="daily-backup"}', 3600), sample('{job="data-processing",instance="worker-1"}', 10000),
      sample('{job="log-cleanup"}', 1000)] },
  { what: 'failed pushes, as ms', expr: query('Failed pushes'),
    exp: [sample('{job="broken"}', 88000000), sample('{job="data-processing",instance="worker-1"}', 85000000)] },
  { what: 'rejected pushes per minute', expr: query('Rejected pushes'), exp: [sample('{code="400"}', 1)] },
  { what: 'Pushgateway targets up', expr: query('Pushgateway up'), exp: [sample('{}', 1)] },
];

describe.skipIf(!promtool)('dashboard queries evaluated by promtool', () => {
  it('give every panel the values it is meant to show', () => {
    // The dashboard reads the records of the alert rules and the registry's thresholds.
    const rules = synth(chart).all('PrometheusRule').flatMap((r) => r.spec.groups);
    fs.writeFileSync(path.join(tmp, 'rules.yml'), stringify({ groups: rules }));
    const test = {
      rule_files: ['rules.yml'],
      // The alert rules' records that panels read, every 5 minutes rather than every minute: the
      // data holds still from the start, so they reach the same values with a fifth of the
      // evaluations (a day of every-minute evaluations was nearly all of this test's cost).
      evaluation_interval: '5m',
      tests: [
        {
          interval: T,
          input_series: inputSeries,
          promql_expr_test: cases.map((c) => ({ expr: c.expr, eval_time: EVAL, exp_samples: c.exp })),
        },
        {
          // no Pushgateway target at all reads as 0, not as "no data"
          interval: T,
          input_series: [series('up', 'job="other",namespace="monitoring"', '1x10')],
          promql_expr_test: [{ expr: query('Pushgateway up'), eval_time: '5m', exp_samples: [sample('{}', 0)] }],
        },
      ],
    };
    const file = path.join(tmp, 'dashboard-queries.test.yml');
    fs.writeFileSync(file, stringify(test));
    const r = spawnSync(promtool!, ['test', 'rules', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}\n(cases: ${cases.map((c) => c.what).join('; ')})`).toBe(0);
  });
});
