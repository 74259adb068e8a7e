import { Duration } from 'cdk8s';

/** The `severity` label of an alert, as kube-prometheus's Alertmanager routes and inhibits on it. */
export enum AlertSeverity {
  /** Pages someone: the job's output is missing or wrong. */
  CRITICAL = 'critical',
  /** Needs attention during working hours. */
  WARNING = 'warning',
  /** For information only; kube-prometheus's Alertmanager inhibits it while a warning or critical alert fires. */
  INFO = 'info',
}

/** Per-job severities of the alerts about a job. */
export interface BatchJobAlertSeverities {
  /**
   * Severity of `BatchJobFailure`.
   * @default AlertSeverity.CRITICAL
   */
  readonly failure?: AlertSeverity;
  /**
   * Severity of `BatchJobDurationHigh`.
   * @default AlertSeverity.WARNING
   */
  readonly durationHigh?: AlertSeverity;
  /**
   * Severity of `BatchJobNotRunning`.
   * @default AlertSeverity.CRITICAL
   */
  readonly notRunning?: AlertSeverity;
}

/**
 * A batch job that pushes to the Pushgateway, declared once and read by the alerts, the dashboard
 * and the cleanup. A plain value: nothing here reaches back into a chart.
 */
export interface BatchJob {
  /** The `job` label the job pushes with (its grouping key), e.g. `daily-backup`. */
  readonly name: string;
  /** How often the job is expected to succeed, e.g. `Duration.hours(24)` for a daily job. */
  readonly interval: Duration;
  /** The longest a run may take before it counts as too slow; at most `interval`. */
  readonly maxDuration: Duration;
  /**
   * Extra time after `interval` before a missing success alerts, so that a run that starts late
   * or takes a while does not page anyone. Greater than zero.
   * @default - a quarter of `interval`, at least 5 minutes and at most 2 hours
   */
  readonly grace?: Duration;
  /**
   * The namespace the job runs in: the `namespace` label of its alerts, which Alertmanager routes
   * and inhibits on.
   * @default - the namespace of the registry's chart, else the Pushgateway's
   */
  readonly namespace?: string;
  /**
   * The Kubernetes CronJob that runs the job, in the job's `namespace`: it is watched through
   * kube-state-metrics too (`BatchCronJobNoRecentSuccess`), and its creation declares the job anew
   * (a re-created CronJob gets its deadline before a never-reported job is flagged).
   * @default - none
   */
  readonly cronJob?: string;
  /**
   * Static labels added to this job's alerts (for routing, e.g. `{ team: 'data' }`).
   * @default - none
   */
  readonly labels?: Record<string, string>;
  /**
   * Severities of this job's alerts, where they differ from the defaults.
   * @default - BatchJobFailure and BatchJobNotRunning critical, BatchJobDurationHigh warning
   */
  readonly severities?: BatchJobAlertSeverities;
}

/** A Kubernetes CronJob watched through kube-state-metrics (`BatchCronJobNoRecentSuccess`). */
export interface BatchCronJob {
  /** Name of the CronJob. */
  readonly name: string;
  /** Namespace of the CronJob. */
  readonly namespace: string;
  /** How often the CronJob is expected to succeed. */
  readonly interval: Duration;
  /**
   * Extra time after `interval` before the alert fires.
   * @default - see `BatchJob.grace`
   */
  readonly grace?: Duration;
  /**
   * @default AlertSeverity.WARNING (the pushed-metrics BatchJobNotRunning is the critical one)
   */
  readonly severity?: AlertSeverity;
  /**
   * Static labels added to the alert.
   * @default - none
   */
  readonly labels?: Record<string, string>;
}

/** The grace a job gets when it names none: a quarter of its interval, clamped to [5m, 2h]. */
export function defaultGrace(interval: Duration): Duration {
  const quarter = interval.toSeconds({ integral: false }) / 4;
  return Duration.seconds(Math.round(Math.min(Math.max(quarter, 300), 7200)));
}
