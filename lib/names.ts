// The names the constructs, the push wrapper (lib/push-wrapper/push-metrics.sh) and the cleanup
// program (lib/cleanup/) must agree on, and their one home. The two programs are not TypeScript
// and cannot import them: test/names.test.ts reads them and fails when either uses a name that is
// not here, or no longer uses one that is.

/**
 * Environment of a pod that pushes: MonitoredCronJob and CleanupCronJob set it, the wrapper and
 * the cleanup read it.
 */
export const PUSHER_ENV = {
  /** The Pushgateway base URL (its Service), with its route prefix. */
  url: 'PUSHGATEWAY_URL',
  /** One base URL per replica, comma-separated; with replicas, wins over `url`. */
  urls: 'PUSHGATEWAY_URLS',
  username: 'PUSHGATEWAY_USERNAME',
  password: 'PUSHGATEWAY_PASSWORD',
  /** The CA certificate file of an https Pushgateway. */
  caFile: 'PUSHGATEWAY_CA_FILE',
  /** How long the wrapper retries a push that can pass (whole seconds). */
  retrySeconds: 'PUSHGATEWAY_RETRY_SECONDS',
  /** The `job` label the wrapper pushes with. */
  jobName: 'BATCH_JOB_NAME',
  /**
   * With two or more wrapped containers in a pod, the container's name: the wrapper's group gets
   * the grouping label `batch_container` with it.
   */
  container: 'BATCH_JOB_CONTAINER',
} as const;

/** The cleanup program's flags. */
export const CLEANUP_FLAGS = {
  url: '--url',
  maxAge: '--max-age',
  declaredJob: '--declared-job',
  declaredJobsFile: '--declared-jobs-file',
  supersededAfter: '--superseded-after',
  dryRun: '--dry-run',
  job: '--job',
  excludeJob: '--exclude-job',
  json: '--json',
  concurrency: '--concurrency',
  timeout: '--timeout',
  retries: '--retries',
  relistAfter: '--relist-after',
  now: '--now',
  caFile: '--ca-file',
  username: '--username',
  pushMetrics: '--push-metrics',
  noPushMetrics: '--no-push-metrics',
  help: '--help',
} as const;

/** The cleanup program's own environment variables, each the alternative of a flag. */
export const CLEANUP_ENV = {
  maxAge: 'CLEANUP_MAX_AGE',
  declaredJobs: 'CLEANUP_DECLARED_JOBS',
  declaredJobsFile: 'CLEANUP_DECLARED_JOBS_FILE',
  supersededAfter: 'CLEANUP_SUPERSEDED_AFTER',
  dryRun: 'CLEANUP_DRY_RUN',
  jobs: 'CLEANUP_JOBS',
  excludeJobs: 'CLEANUP_EXCLUDE_JOBS',
  json: 'CLEANUP_JSON',
  concurrency: 'CLEANUP_CONCURRENCY',
  timeout: 'CLEANUP_TIMEOUT',
  retries: 'CLEANUP_RETRIES',
  relistAfter: 'CLEANUP_RELIST_AFTER',
  now: 'CLEANUP_NOW',
  pushMetrics: 'CLEANUP_PUSH_METRICS',
} as const;

/**
 * The series a batch job's run pushes (the wrapper all but records, retries and errors; the cleanup
 * the first three and those), which the rules and the dashboard read.
 */
export const BATCH_JOB_METRICS = {
  success: 'batch_job_success',
  durationSeconds: 'batch_job_duration_seconds',
  lastSuccessTimestampSeconds: 'batch_job_last_success_timestamp_seconds',
  /** The command's exit status; 128+N when signal N killed it. */
  exitCode: 'batch_job_exit_code',
  /** N with the label `signal="SIG..."` when signal N killed the command, else 0 without the label. */
  exitSignal: 'batch_job_exit_signal',
  /** 1 from the start of a run (pushed then, keeping the last result), 0 at its end. */
  running: 'batch_job_running',
  recordsProcessed: 'batch_job_records_processed',
  retriesTotal: 'batch_job_retries_total',
  errorsTotal: 'batch_job_errors_total',
} as const;

/**
 * The grouping label a wrapped container pushes with when its pod has several
 * (`PUSHER_ENV.container`): a job's result is judged per (job, batch_container).
 */
export const BATCH_CONTAINER_LABEL = 'batch_container';

/** The `job` label the cleanup pushes its own run's metrics with. */
export const CLEANUP_JOB_NAME = 'pushgateway-cleanup';

/** The pod label that admits a pod to push under the default NetworkPolicy. */
export const PUSHER_LABEL = 'batch-monitoring.io/pusher';
/** The namespace label, set by an admin, that admits a namespace's pusher-labelled pods. */
export const PUSHERS_NAMESPACE_LABEL = 'batch-monitoring.io/pushers';
