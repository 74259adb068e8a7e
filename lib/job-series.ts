/**
 * The series that carry the jobs' thresholds through Prometheus: the job registry records them
 * (one small constant series per job and threshold), and the alerts and the dashboard join on
 * them, so that their expressions are the same for 10 or 1000 jobs. One home for their names and
 * labels.
 */
import { Duration } from 'cdk8s';
import { matcher, selector } from './promql';

/**
 * `batch_job:info{job, namespace, pushgateway, job_registry, <severity labels>, [cronjob], <static labels>} 1`: the labels of
 * a job's alerts, and the CronJob that runs it (in its namespace), if any.
 */
export const JOB_INFO = 'batch_job:info';
/** `batch_job:threshold_seconds{job, pushgateway, threshold="interval"|"deadline"|"max_duration"}`. */
export const JOB_THRESHOLD = 'batch_job:threshold_seconds';
/** `batch_job:declared_timestamp_seconds{job, pushgateway}`: when Prometheus first loaded the job's declaration. */
export const JOB_DECLARED = 'batch_job:declared_timestamp_seconds';
/** `batch_job:last_success_timestamp_seconds{job, pushgateway}`: the newest success of a job, across groups and replicas, kept when its group goes away. */
export const JOB_LAST_SUCCESS = 'batch_job:last_success_timestamp_seconds';
/**
 * `batch_job:last_push_timestamp_seconds{job, [batch_container], pushgateway}`: the newest push of a run result of each
 * wrapped container (one series for a job without `batch_container`), across groups and replicas.
 */
export const JOB_LAST_PUSH = 'batch_job:last_push_timestamp_seconds';
/** `batch_job:last_run_success{job, [batch_container], pushgateway}`: `batch_job_success` of that newest push. */
export const JOB_LAST_RUN_SUCCESS = 'batch_job:last_run_success';
/** `batch_job:last_run_duration_seconds{job, [batch_container], pushgateway}`: `batch_job_duration_seconds` of the newest push that has one. */
export const JOB_LAST_RUN_DURATION = 'batch_job:last_run_duration_seconds';
/** `batch_job:last_run_exit_code{job, [batch_container], pushgateway}`: `batch_job_exit_code` of the newest push of a result. */
export const JOB_LAST_RUN_EXIT_CODE = 'batch_job:last_run_exit_code';
/** `batch_job:last_run_exit_signal{job, [batch_container], signal, pushgateway}`: the signal that killed that run, if one did. */
export const JOB_LAST_RUN_EXIT_SIGNAL = 'batch_job:last_run_exit_signal';
/**
 * `batch_job:last_failed_kube_job_start_timestamp_seconds{job, namespace, job_name, reason, pushgateway}`: the start of the
 * newest Kubernetes Job of the job's CronJob that failed (kube-state-metrics), kept when the Job object is deleted; `reason`
 * is `OOMKilled` when a container of its pods was, else the Job's failure reason (`BackoffLimitExceeded`, `DeadlineExceeded`, ...).
 */
export const JOB_LAST_FAILED_KUBE_JOB = 'batch_job:last_failed_kube_job_start_timestamp_seconds';
/** `batch_job:pushgateway_outage_timestamp_seconds{pushgateway}`: the last time no replica could be scraped for a while; 0 if never. */
export const PUSHGATEWAY_OUTAGE = 'batch_job:pushgateway_outage_timestamp_seconds';
/** `batch_cronjob:deadline_seconds{namespace, cronjob, pushgateway, severity, <static labels>}`: a CronJob watched through kube-state-metrics. */
export const CRONJOB_DEADLINE = 'batch_cronjob:deadline_seconds';

/** The label that tells the series of one Pushgateway from another's: `<namespace>/<name>`. */
export const PUSHGATEWAY_LABEL = 'pushgateway';
/** The label of `batch_job:info` that names the registry that declared the job: `<namespace>/<PrometheusRule name>`. */
export const REGISTRY_LABEL = 'job_registry';
/** The label of `batch_job:info` and `batch_cronjob:deadline_seconds` that names a CronJob (in `namespace`), as kube-state-metrics does. */
export const CRONJOB_LABEL = 'cronjob';
/** The label of `batch_job:threshold_seconds` that names the threshold. */
export const THRESHOLD_LABEL = 'threshold';

/** Labels of `batch_job:info` that hold each alert's severity (the alerts move the right one into `severity`). */
export const SEVERITY_LABELS = {
  failure: 'failure_severity',
  durationHigh: 'duration_high_severity',
  notRunning: 'not_running_severity',
} as const;

/** The thresholds of `batch_job:threshold_seconds`. */
export enum Threshold {
  INTERVAL = 'interval',
  /** Interval plus grace: BatchJobNotRunning fires past it. */
  DEADLINE = 'deadline',
  MAX_DURATION = 'max_duration',
}

/**
 * How long the self-referencing records (declaration time, last success, last outage) survive a
 * gap in their own evaluation, e.g. a Prometheus restart: the same as Prometheus's default
 * `--rules.alert.for-outage-tolerance`. Independent of any job's interval, so a weekly job costs
 * what an hourly one does.
 */
export const RECORD_MEMORY = Duration.hours(1);

/** The value of the `pushgateway` label for a Pushgateway. */
export function pushgatewayId(pushgateway: { readonly namespace: string; readonly name: string }): string {
  return `${pushgateway.namespace}/${pushgateway.name}`;
}

/** A selector of one of the series above for one Pushgateway, with further matchers. */
export function jobSeries(metric: string, pushgateway: string, extra: string[] = []): string {
  return selector(metric, [matcher(PUSHGATEWAY_LABEL, pushgateway), ...extra]);
}

/** The selector of one threshold of every job of a Pushgateway. */
export function thresholdSeries(pushgateway: string, threshold: Threshold, extra: string[] = []): string {
  return jobSeries(JOB_THRESHOLD, pushgateway, [matcher(THRESHOLD_LABEL, threshold), ...extra]);
}
