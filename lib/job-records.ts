/**
 * The recording rules that condense what the Pushgateway and kube-state-metrics hold into a few
 * series per job, which the alerts and the dashboard read. Every rule that reads its own output (or
 * another record) aggregates the read to the labels it keeps, so that labels a ruler adds to what it
 * reads back (Thanos's external and replica labels) are never copied into new series.
 */
import { Duration } from 'cdk8s';
import {
  JOB_INFO, JOB_LAST_FAILED_KUBE_JOB, JOB_LAST_PUSH, JOB_LAST_RUN_DURATION, JOB_LAST_RUN_EXIT_CODE, JOB_LAST_RUN_EXIT_SIGNAL, JOB_LAST_RUN_SUCCESS,
  JOB_LAST_SUCCESS, jobSeries, PUSHGATEWAY_OUTAGE, RECORD_MEMORY,
} from './job-series';
import { KubeJobs } from './kube-jobs';
import { BATCH_CONTAINER_LABEL, BATCH_JOB_METRICS } from './names';
import { toPrometheusDuration } from './prometheus-duration';
import { lastOverTime, selector, withLabel } from './promql';

/** The labels a job's result records keep: one series per wrapped container, one for a job without `batch_container`. */
export const RESULT_LABELS = `job, ${BATCH_CONTAINER_LABEL}`;
/**
 * How far past its push a pushed `batch_job_last_success_timestamp_seconds` may lie and still count
 * (a pod's clock a little ahead of the Pushgateway's); further is a bad timestamp (future,
 * milliseconds, +Inf), ignored, and named by BatchJobBadTimestamp.
 */
export const PUSHED_TIMESTAMP_TOLERANCE = Duration.minutes(5);
// How long no replica may be scrapeable before it counts as an outage that jobs could not report
// through; shorter blips leave the jobs' deadlines alone.
const OUTAGE_WINDOW = Duration.minutes(5);

/** What the records are about. */
export interface JobRecordsSpec {
  /** The value of the `pushgateway` label. */
  readonly gateway: string;
  /** Matchers of the series the Pushgateway holds for pushed groups (its target labels). */
  readonly gatewayMatchers: string[];
  /** The Pushgateway's own `up` series. */
  readonly up: string;
  /** How long a record bridges a gap in its input series. */
  readonly gap: Duration;
  readonly kubeJobs: KubeJobs;
}

export interface JobRecord {
  readonly record: string;
  readonly expr: string[];
}

export function jobRecords(spec: JobRecordsSpec): JobRecord[] {
  const raw = (metric: string) => selector(metric, spec.gatewayMatchers);
  const own = (metric: string) => jobSeries(metric, spec.gateway);
  const newest = (metric: string) => `max by (${RESULT_LABELS}) (${own(metric)})`;
  // A record of the current series, or, for a job whose series are gone (Pushgateway pod replaced,
  // failed scrapes), its last value for `gap`: the gap neither resets a pending alert nor resolves
  // a firing one. Bridging the few series per job, not every raw series, keeps the cost low.
  const bridged = (metric: string, current: string[]) => [
    ...current,
    `or on (${RESULT_LABELS}) max by (${RESULT_LABELS}) ${lastOverTime(own(metric), spec.gap)}`,
  ];
  const memory = (metric: string) => lastOverTime(own(metric), RECORD_MEMORY);
  const ofNewestResult = (metric: string, aggregation = 'max') => [
    `${aggregation} by (${RESULT_LABELS}) (`,
    `  ${raw(metric)}`,
    '  and',
    `  ${raw('push_time_seconds')} == on (${RESULT_LABELS}) group_left () ${newest(JOB_LAST_PUSH)}`,
    ')',
  ];
  const tolerance = PUSHED_TIMESTAMP_TOLERANCE.toSeconds();
  const outageWindow = toPrometheusDuration(OUTAGE_WINDOW);
  // The newest failed Job of the job's CronJob, or the one remembered (the Job object may be gone).
  const failedKubeJobs = [
    `max by (job, namespace, job_name, reason) (${spec.kubeJobs.failedStartTimes().split('\n').join('\n  ')})`,
    'or on (job, job_name)',
    `(max by (job, namespace, job_name, reason) ${memory(JOB_LAST_FAILED_KUBE_JOB)} and on (job) ${own(JOB_INFO)})`,
  ];
  return [
    // The newest push of a result of each container: a start push (`batch_job_running 1`, which
    // keeps the last result) of the same group counts too, its result is that last one.
    { record: JOB_LAST_PUSH, expr: bridged(JOB_LAST_PUSH, [`max by (${RESULT_LABELS}) (`, `  ${raw('push_time_seconds')}`, '  and', `  ${raw('batch_job_success')}`, ')']) },
    // Of several groups or replicas with the newest push, a failure wins.
    { record: JOB_LAST_RUN_SUCCESS, expr: bridged(JOB_LAST_RUN_SUCCESS, ofNewestResult('batch_job_success', 'min')) },
    {
      record: JOB_LAST_RUN_DURATION,
      expr: bridged(JOB_LAST_RUN_DURATION, [
        `max by (${RESULT_LABELS}) (`,
        `  ${raw('batch_job_duration_seconds')}`,
        '  and',
        `  ${raw('push_time_seconds')}`,
        `    == on (${RESULT_LABELS}) group_left ()`,
        `  max by (${RESULT_LABELS}) (`,
        `    ${raw('push_time_seconds')}`,
        '    and',
        `    ${raw('batch_job_duration_seconds')}`,
        '  )',
        ')',
      ]),
    },
    { record: JOB_LAST_RUN_EXIT_CODE, expr: ofNewestResult(BATCH_JOB_METRICS.exitCode) },
    {
      record: JOB_LAST_RUN_EXIT_SIGNAL,
      expr: [
        `max by (${RESULT_LABELS}, signal) (`,
        `  ${raw(BATCH_JOB_METRICS.exitSignal)} > 0`,
        '  and ignoring (signal)',
        `  ${raw('push_time_seconds')} == on (${RESULT_LABELS}) group_left () ${newest(JOB_LAST_PUSH)}`,
        ')',
      ],
    },
    // The time of the last success by the Pushgateway's clock: the push time of a push that
    // carried a success (not a start push), or a pushed last-success timestamp no later than
    // shortly after its push. With several wrapped containers, the last time every one had
    // succeeded. Remembered while the job stays declared (across an outage of the Pushgateway, a
    // replaced pod without persistence, a group deleted by the cleanup), never past now.
    {
      record: JOB_LAST_SUCCESS,
      expr: [
        'max by (job) (',
        '  min by (job) (',
        `    max by (${RESULT_LABELS}) (`,
        `      (${raw('push_time_seconds')} and ${raw('batch_job_success')} == 1 unless ${raw(BATCH_JOB_METRICS.running)} == 1)`,
        '      or',
        `      (${raw('batch_job_last_success_timestamp_seconds')} > 0 <= ${raw('push_time_seconds')} + ${tolerance})`,
        '    )',
        '  )',
        '  or',
        `  ${withLabel(`max by (job) ${memory(JOB_LAST_SUCCESS)} <= time() + ${tolerance} and on (job) ${own(JOB_INFO)}`, 'source', 'memory')}`,
        ')',
      ],
    },
    {
      record: PUSHGATEWAY_OUTAGE,
      expr: [
        `vector(time()) and on () (max(max_over_time(${spec.up}[${outageWindow}])) == 0 or on () absent_over_time(${spec.up}[${outageWindow}]))`,
        `or on () max(${memory(PUSHGATEWAY_OUTAGE)})`,
        'or on () vector(0)',
      ],
    },
    {
      record: JOB_LAST_FAILED_KUBE_JOB,
      expr: [
        '(',
        ...failedKubeJobs.map((l) => `  ${l}`),
        ')',
        '== on (job) group_left ()',
        'max by (job) (',
        ...failedKubeJobs.map((l) => `  ${l}`),
        ')',
      ],
    },
  ];
}
