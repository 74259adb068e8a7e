import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { BatchJob } from './batch-job';
import { BatchJobAlerts, BatchJobAlertsOptions } from './batch-job-alerts';
import { BatchJobsDashboard, BatchJobsDashboardOptions } from './batch-jobs-dashboard';
import { CleanupCronJob, CleanupCronJobOptions } from './cleanup-cron-job';
import { JobRegistry, JobRegistryOptions, RegisteredJob } from './job-registry';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { Pushgateway } from './pushgateway';
import { PushgatewayProps } from './pushgateway-props';

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
   * Options of the job registry (how often the declarations are recorded).
   * @default - the JobRegistry defaults
   */
  readonly registry?: JobRegistryOptions;
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
 * Pushgateway, the job registry, and the alerts, dashboard and cleanup that follow from every job
 * declared with `addJob` (or by a `MonitoredCronJob`).
 */
export class BatchMonitoringChart extends Chart {
  /** The flavour every construct of the chart is set up for. */
  public readonly flavour: KubePrometheusFlavour;
  /** The Pushgateway the jobs push to. */
  public readonly pushgateway: Pushgateway;
  /** Where the jobs are declared; alerts, dashboard and cleanup read from it. */
  public readonly registry: JobRegistry;
  /** The alerts about the jobs and the Pushgateway. */
  public readonly alerts: BatchJobAlerts;
  /** The Grafana dashboard. */
  public readonly dashboard: BatchJobsDashboard;
  /** The cleanup of stale Pushgateway groups, unless `cleanupEnabled` is false. */
  public readonly cleanup?: CleanupCronJob;

  constructor(scope: Construct, id: string, props: BatchMonitoringChartProps = {}) {
    super(scope, id, { ...props, namespace: props.namespace ?? 'monitoring' });
    this.flavour = props.flavour ?? KubePrometheusFlavour.kubePrometheus();
    this.pushgateway = new Pushgateway(this, 'Pushgateway', { ...props.pushgateway, flavour: this.flavour });
    this.registry = new JobRegistry(this, 'Jobs', { ...props.registry, pushgateway: this.pushgateway, name: props.alerts?.name, flavour: this.flavour });
    this.alerts = new BatchJobAlerts(this, 'Alerts', {
      dashboardUid: props.dashboard?.uid, ...props.alerts, pushgateway: this.pushgateway, flavour: this.flavour, registry: this.registry,
    });
    this.dashboard = new BatchJobsDashboard(this, 'Dashboard', { ...props.dashboard, pushgateway: this.pushgateway });
    if (props.cleanupEnabled ?? true) {
      this.cleanup = new CleanupCronJob(this, 'Cleanup', { ...props.cleanup, pushgateway: this.pushgateway, registry: this.registry });
    }
  }

  /** The jobs declared so far, sorted by name. */
  public get jobs(): RegisteredJob[] {
    return this.registry.jobs;
  }

  /**
   * Declares a batch job once for the alerts, the dashboard and the cleanup.
   * @returns the job as registered
   */
  public addJob(job: BatchJob): RegisteredJob {
    return this.registry.addJob(job);
  }
}
