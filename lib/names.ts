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
} as const;

/** The cleanup program's flags. */
export const CLEANUP_FLAGS = {
  url: '--url',
  maxAge: '--max-age',
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

/** The series a batch job's run pushes (the wrapper the first three, the cleanup all), which the rules and the dashboard read. */
export const BATCH_JOB_METRICS = {
  success: 'batch_job_success',
  durationSeconds: 'batch_job_duration_seconds',
  lastSuccessTimestampSeconds: 'batch_job_last_success_timestamp_seconds',
  recordsProcessed: 'batch_job_records_processed',
  retriesTotal: 'batch_job_retries_total',
  errorsTotal: 'batch_job_errors_total',
} as const;

/** The `job` label the cleanup pushes its own run's metrics with. */
export const CLEANUP_JOB_NAME = 'pushgateway-cleanup';
