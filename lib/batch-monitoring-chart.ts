import { Chart, ChartProps, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { BatchJob, defaultGrace } from './batch-job';
import { BatchJobAlerts, BatchJobAlertsOptions } from './batch-job-alerts';
import { BatchJobsDashboard, BatchJobsDashboardOptions } from './batch-jobs-dashboard';
import { CleanupCronJob, CleanupCronJobOptions } from './cleanup-cron-job';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { Pushgateway, PushgatewayProps } from './pushgateway';
import { checkDnsLabel, invalidInput } from './validation';

/** Props for `BatchMonitoringChart`. */
export interface BatchMonitoringChartProps extends ChartProps {
  /**
   * The kube-prometheus flavour the manifests are for.
   * @default KubePrometheusFlavour.kubePrometheus()
   */
  readonly flavour?: KubePrometheusFlavour;
  /**
   * Props of the Pushgateway (its namespace and flavour come from the chart).
   * @default - a Pushgateway with its defaults
   */
  readonly pushgateway?: PushgatewayProps;
  /**
   * Options of the alerts (runbook links, `for` durations, ...).
   * @default - the BatchJobAlerts defaults, without runbook links
   */
  readonly alerts?: BatchJobAlertsOptions;
  /**
   * Settings of the Grafana dashboard.
   * @default - the dashboard's defaults (uid `batch-jobs`)
   */
  readonly dashboard?: BatchJobsDashboardOptions;
  /**
   * Options of the CronJob that deletes stale Pushgateway groups (its Pushgateway is the chart's).
   * @default - a CleanupCronJob with its defaults: daily at 00:00, groups older than 7 days
   */
  readonly cleanup?: CleanupCronJobOptions;
  /**
   * Whether the chart includes the cleanup CronJob.
   * @default true
   */
  readonly cleanupEnabled?: boolean;
}

/**
 * Everything that makes batch jobs observable with kube-prometheus, in one chart: the
 * Pushgateway and, for every job declared with `addJob`, its alerts, dashboard rows and cleanup.
 */
export class BatchMonitoringChart extends Chart {
  /** The flavour every construct of the chart is set up for. */
  public readonly flavour: KubePrometheusFlavour;
  /** The Pushgateway the jobs push to. */
  public readonly pushgateway: Pushgateway;
  /** The alerts about the jobs and the Pushgateway. */
  public readonly alerts: BatchJobAlerts;
  /** The Grafana dashboard. */
  public readonly dashboard: BatchJobsDashboard;
  /** The cleanup of stale Pushgateway groups, unless `cleanupEnabled` is false. */
  public readonly cleanup?: CleanupCronJob;
  private readonly _jobs: BatchJob[] = [];

  constructor(scope: Construct, id: string, props: BatchMonitoringChartProps = {}) {
    super(scope, id, { ...props, namespace: props.namespace ?? 'monitoring' });
    this.flavour = props.flavour ?? KubePrometheusFlavour.kubePrometheus();
    this.pushgateway = new Pushgateway(this, 'Pushgateway', { ...props.pushgateway, flavour: this.flavour });
    this.alerts = new BatchJobAlerts(this, 'Alerts', { ...props.alerts, pushgateway: this.pushgateway, flavour: this.flavour });
    this.dashboard = new BatchJobsDashboard(this, 'Dashboard', { ...props.dashboard, pushgateway: this.pushgateway });
    if (props.cleanupEnabled ?? true) {
      this.cleanup = new CleanupCronJob(this, 'Cleanup', { ...props.cleanup, pushgateway: this.pushgateway });
      if (this.cleanup.pushMetrics) {
        // The cleanup pushes its own run metrics, so the batch-job alerts watch it like any job.
        // Half the deadline as max duration warns before runs get killed.
        this.addJob({
          name: CleanupCronJob.METRICS_JOB,
          interval: this.cleanup.interval,
          maxDuration: Duration.seconds(Math.max(1, Math.round(this.cleanup.activeDeadline.toSeconds({ integral: false }) / 2))),
        });
      }
    }
  }

  /** The jobs declared so far, in the order they were added. */
  public get jobs(): BatchJob[] {
    return [...this._jobs];
  }

  /**
   * Declares a batch job once for the alerts, the dashboard and the cleanup.
   * @returns the job as registered
   */
  public addJob(job: BatchJob): BatchJob {
    checkDnsLabel(this, 'job name', job.name);
    if (this._jobs.some((j) => j.name === job.name)) {
      throw invalidInput(this, 'job name', job.name, 'each job is declared once (a MonitoredCronJob declares its own): remove the second addJob() call or MonitoredCronJob, or give the job another name');
    }
    this.checkCleanupSpares(job);
    this.alerts.addJob(job);
    this.dashboard.addJob(job);
    this._jobs.push(job);
    return job;
  }

  /** A cleanup that deletes a job's group before the job is even overdue would hide a missing run. */
  private checkCleanupSpares(job: BatchJob): void {
    const cleanup = this.cleanup;
    if (!cleanup || cleanup.excludeJobs.includes(job.name) || (cleanup.jobs.length > 0 && !cleanup.jobs.includes(job.name))) return;
    const overdue = job.interval.toSeconds({ integral: false }) + (job.grace ?? defaultGrace(job.interval)).toSeconds({ integral: false });
    if (cleanup.maxAge.toSeconds({ integral: false }) <= overdue) {
      throw invalidInput(this, `interval of job ${job.name}`, job.interval.toHumanString(),
        `the cleanup deletes groups older than ${cleanup.maxAge.toHumanString()}, which is not more than this job's interval plus grace `
        + `(${Duration.seconds(overdue).toHumanString()}): raise cleanup.maxAge, or add the job to cleanup.excludeJobs`);
    }
  }
}
