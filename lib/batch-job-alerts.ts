import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroups } from '../imports/monitoring.coreos.com';
import { AlertRules, checkBaseUrl } from './alert-rules';
import { AlertSeverity, BatchCronJob, BatchJob } from './batch-job';
import { DEFAULT_DASHBOARD_UID, isGrafanaUid } from './batch-jobs-dashboard';
import {
  CRONJOB_DEADLINE, CRONJOB_LABEL, JOB_DECLARED, JOB_INFO, JOB_LAST_FAILED_KUBE_JOB, JOB_LAST_PUSH, JOB_LAST_RUN_DURATION,
  JOB_LAST_RUN_EXIT_CODE, JOB_LAST_RUN_EXIT_SIGNAL, JOB_LAST_RUN_SUCCESS, JOB_LAST_SUCCESS, JOB_THRESHOLD, jobSeries, PUSHGATEWAY_LABEL,
  PUSHGATEWAY_OUTAGE, pushgatewayId, REGISTRY_LABEL, SEVERITY_LABELS, Threshold, THRESHOLD_LABEL, thresholdSeries,
} from './job-series';
import { jobRecords, PUSHED_TIMESTAMP_TOLERANCE, RESULT_LABELS } from './job-records';
import { JobRegistry, RegisteredCronJob, RegisteredJob } from './job-registry';
import { KubeJobs } from './kube-jobs';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { BATCH_CONTAINER_LABEL, BATCH_JOB_METRICS } from './names';
import { matcher, quoteLabelValue, selector, withLabel } from './promql';
import { IPushgateway } from './pushgateway-interface';
import { pushedMatchers, pushgatewayAlerts, pushgatewaySelector } from './pushgateway-alerts';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkPositive, checkRequired, invalidInput, REQUIRED_PUSHGATEWAY } from './validation';

/**
 * How long each alert's condition must hold before it fires (the rule's `for`). Zero fires at the
 * first evaluation that sees the condition.
 */
export interface BatchJobAlertsForDurations {
  /** @default Duration.minutes(5) */
  readonly failure?: Duration;
  /** @default Duration.minutes(5) */
  readonly durationHigh?: Duration;
  /** @default Duration.minutes(5) */
  readonly notRunning?: Duration;
  /** @default Duration.minutes(5) */
  readonly runningTooLong?: Duration;
  /** @default Duration.minutes(5) */
  readonly badTimestamp?: Duration;
  /** @default Duration.minutes(5) */
  readonly pushFailed?: Duration;
  /** @default Duration.minutes(5) */
  readonly pushgatewayDown?: Duration;
  /** @default Duration.minutes(5) */
  readonly pushesRejected?: Duration;
  /** @default Duration.minutes(5) */
  readonly pushgatewayReplicaDown?: Duration;
}

/** Options of `BatchJobAlerts` that do not depend on a Pushgateway (also the `alerts` prop of `BatchMonitoringChart`). */
export interface BatchJobAlertsOptions {
  /**
   * Prefix of the PrometheusRule name (`<name>-rules`) and of its rule group names.
   * @default - the Pushgateway's name
   */
  readonly name?: string;
  /**
   * Where `docs/runbooks.md` of this library is published, e.g.
   * `https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md`. Every alert
   * gets `runbook_url: <runbookBaseUrl>#<alert name in lower case>`.
   * @default - no runbook_url annotation
   */
  readonly runbookBaseUrl?: string;
  /**
   * Where Grafana is served, e.g. `https://grafana.example.com`. Every alert gets
   * `dashboard_url: <dashboardBaseUrl>/d/<dashboardUid>`, with the alert's job selected
   * (`?var-job=<job>`) for the job alerts.
   * @default - no dashboard_url annotation
   */
  readonly dashboardBaseUrl?: string;
  /**
   * The uid of the batch jobs dashboard the `dashboard_url` links to (`BatchMonitoringChart` passes its dashboard's).
   * @default 'batch-jobs' (the dashboard's default)
   */
  readonly dashboardUid?: string;
  /**
   * How long the rules keep using the last values of a job (its newest push, result and duration)
   * when none of its series can be scraped (Pushgateway pod replaced, failed scrapes), so that such
   * a gap neither resets a pending alert nor resolves a firing one; also how long `BatchJobPushFailed`
   * keeps a group's last values.
   * @default Duration.minutes(10)
   */
  readonly scrapeGapTolerance?: Duration;
  /**
   * The `for` of each alert.
   * @default - 5 minutes for every alert
   */
  readonly forDurations?: BatchJobAlertsForDurations;
  /**
   * The scrape `job` label of kube-state-metrics, for `BatchCronJobNoRecentSuccess`.
   * @default 'kube-state-metrics' (both kube-prometheus flavours)
   */
  readonly kubeStateMetricsJob?: string;
}

/** Props for `BatchJobAlerts`. */
export interface BatchJobAlertsProps extends BatchJobAlertsOptions {
  /** The Pushgateway the jobs push to; the rules select its series and alert on its health. */
  readonly pushgateway: IPushgateway;
  /**
   * The registry the jobs are declared to (`addJob` and `addCronJob` declare there).
   * @default - a registry of its own, `<name>-jobs`
   */
  readonly registry?: JobRegistry;
  /**
   * The kube-prometheus flavour that loads the rules (it decides the PrometheusRule's labels).
   * @default - the Pushgateway's flavour
   */
  readonly flavour?: KubePrometheusFlavour;
}

// Labels of `batch_job:info` that are not alert labels.
const INFO_ONLY_LABELS = [PUSHGATEWAY_LABEL, REGISTRY_LABEL, CRONJOB_LABEL, ...Object.values(SEVERITY_LABELS)];

/**
 * The alerts about the batch jobs of one Pushgateway and about the Pushgateway itself, as one
 * PrometheusRule (`<name>-rules`) whose expressions are the same however many jobs there are:
 * `BatchJobFailure`, `BatchJobDurationHigh`, `BatchJobNotRunning` and `BatchCronJobNoRecentSuccess`
 * for every job and CronJob declared to its job registry (in this app or any other, against the
 * same Pushgateway), joined on the thresholds the registry publishes; `BatchJobPushFailed`,
 * `PushgatewayDown`, `PushgatewayReplicaDown` (with replicas) and `PushgatewayPushesRejected` once.
 *
 * Every expression selects the Pushgateway's series by the target labels `namespace` and `service`
 * and takes the newest push of a job across its groups and replicas, aggregating away `pod`,
 * `instance`, `endpoint` and `container`, which differ between replicas and change when a pod is
 * replaced; recent values are bridged over scrape gaps (`scrapeGapTolerance`), and the last success
 * of a job is remembered when its group goes away (Pushgateway outage, cleanup).
 *
 * A job that never reported a success is flagged once its deadline (interval plus grace) has
 * passed since Prometheus first loaded its declaration; after an outage of the Pushgateway (no
 * replica scrapeable for 5 minutes), every job gets its deadline again from the end of the outage.
 */
export class BatchJobAlerts extends Construct {
  /** The name of the PrometheusRule, `<name>-rules`. */
  public readonly ruleName: string;
  /** The Pushgateway the rules are about. */
  public readonly pushgateway: IPushgateway;
  /** The registry `addJob` and `addCronJob` declare to. */
  public readonly registry: JobRegistry;
  private readonly prefix: string;
  private readonly alerts: AlertRules;
  private readonly gap: Duration;
  private readonly forDurations: BatchJobAlertsForDurations;
  private readonly kubeStateMetricsJob: string;
  private readonly gateway: string;
  private readonly rule: PrometheusRule;

  constructor(scope: Construct, id: string, props: BatchJobAlertsProps) {
    super(scope, id);
    checkRequired(this, 'BatchJobAlertsProps', props, { pushgateway: REQUIRED_PUSHGATEWAY });
    refuseDuplicateObjects(this);
    this.pushgateway = props.pushgateway;
    const name = props.name ?? this.pushgateway.name;
    checkDnsLabel(this, 'name', name, 253 - '-rules'.length);
    this.ruleName = `${name}-rules`;
    const namespace = this.pushgateway.namespace;
    this.prefix = `${namespace}.${name}`;
    this.checkUniqueRuleName(namespace);

    let runbookBaseUrl: string | undefined;
    let dashboardUrl: string | undefined;
    if (props.runbookBaseUrl !== undefined) {
      runbookBaseUrl = checkBaseUrl(this, 'runbookBaseUrl', props.runbookBaseUrl,
        'use the http(s) URL of docs/runbooks.md without a "#fragment" (each alert appends its own), e.g. "https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md"');
    }
    if (props.dashboardBaseUrl !== undefined) {
      const base = checkBaseUrl(this, 'dashboardBaseUrl', props.dashboardBaseUrl,
        'use the http(s) URL Grafana is served at, without "?" or "#" (the alerts append the dashboard\'s path), e.g. "https://grafana.example.com"');
      if (base.includes('?')) throw invalidInput(this, 'dashboardBaseUrl', base, 'leave out the "?query": the alerts append `/d/<uid>?var-job=<job>`');
      const uid = props.dashboardUid ?? DEFAULT_DASHBOARD_UID;
      if (!isGrafanaUid(uid)) throw invalidInput(this, 'dashboardUid', uid, 'use the uid of the batch jobs dashboard (letters, digits, "-" and "_", at most 40)');
      dashboardUrl = `${base.replace(/\/+$/, '')}/d/${uid}`;
    }
    this.gap = props.scrapeGapTolerance ?? Duration.minutes(10);
    checkPositive(this, 'scrapeGapTolerance', this.gap);
    this.forDurations = props.forDurations ?? {};
    this.kubeStateMetricsJob = props.kubeStateMetricsJob ?? 'kube-state-metrics';
    this.gateway = pushgatewayId(this.pushgateway);
    this.alerts = new AlertRules(this.gateway, runbookBaseUrl, dashboardUrl);

    const flavour = props.flavour ?? this.pushgateway.flavour;
    this.registry = props.registry ?? new JobRegistry(this, 'Jobs', { pushgateway: this.pushgateway, name, flavour });
    this.rule = new PrometheusRule(this, 'Resource', {
      metadata: {
        name: this.ruleName,
        namespace,
        labels: { ...this.pushgateway.labels, ...flavour.ruleLabels() },
      },
      spec: {
        groups: [
          {
            name: `${this.prefix}.pushgateway`,
            rules: pushgatewayAlerts({
              pushgateway: this.pushgateway, rules: this.alerts, gap: this.gap, kubeStateMetricsJob: this.kubeStateMetricsJob, for: this.forDurations,
            }),
          },
          this.jobsGroup(),
        ],
      },
    });
  }

  /** The PrometheusRule with the alerts (the jobs' declarations are the registry's). */
  public get rules(): PrometheusRule[] {
    return [this.rule];
  }

  /** The names of the jobs declared to the registry, sorted. */
  public get jobs(): string[] {
    return this.registry.jobs.map((job) => job.name);
  }

  /**
   * Declares a job to the registry, which is all the alerts need: `BatchJobFailure`,
   * `BatchJobDurationHigh` and `BatchJobNotRunning` then cover it.
   * @returns the job as registered
   */
  public addJob(job: BatchJob): RegisteredJob {
    return this.registry.addJob(job);
  }

  /**
   * Declares a Kubernetes CronJob to the registry for `BatchCronJobNoRecentSuccess`: the
   * kube-state-metrics view that catches a job that never even starts (bad image, quota, a
   * suspended controller) and so never pushes. kube-prometheus's KubeJobFailed already covers
   * failed Jobs; this covers missing successes, which no kube-prometheus alert does.
   * @returns the CronJob as registered
   */
  public addCronJob(cronJob: BatchCronJob): RegisteredCronJob {
    return this.registry.addCronJob(cronJob);
  }

  /**
   * Records that condense the Pushgateway's and kube-state-metrics' series into a few series per
   * job, then the job alerts, which join them with the registry's declarations on `job`.
   */
  private jobsGroup(): PrometheusRuleSpecGroups {
    const gw = this.gateway;
    const raw = (metric: string) => selector(metric, pushedMatchers(this.pushgateway));
    const own = (metric: string) => jobSeries(metric, gw);
    // Every read of a record is aggregated to one series per job: a ruler may add labels to what it reads back.
    const byJob = (metric: string) => `max by (job) (${own(metric)})`;
    const deadline = thresholdSeries(gw, Threshold.DEADLINE);
    const maxDuration = thresholdSeries(gw, Threshold.MAX_DURATION);
    // The labels of a job's alerts, with `severity` taken from the alert's own severity label.
    const alertLabels = (severity: string) => `label_replace(${own(JOB_INFO)}, "severity", "$1", ${quoteLabelValue(severity)}, "(.+)")`;
    const perJobAlert = (labels: string, condition: string[]) => [
      `max without (${INFO_ONLY_LABELS.join(', ')}) (`,
      `  ${labels}`,
      // group_left keeps every label of the declaration (one-to-one matching with `on` would keep only `job`).
      '  * on (job) group_left ()',
      '  max by (job) (',
      ...condition.map((line) => `    ${line}`),
      '  )',
      ')',
    ];
    // The deadline counts from the later of the last success (or, never reported, the declaration)
    // and the end of the last Pushgateway outage, when nobody could report.
    const since = (reference: string) => `time() - clamp_min(${reference}, scalar(max(${own(PUSHGATEWAY_OUTAGE)})))`;
    const threshold = (name: Threshold) => this.alerts.thresholdText(`${JOB_THRESHOLD}{${PUSHGATEWAY_LABEL}=%q,job=%q,${THRESHOLD_LABEL}="${name}"}`,
      [JSON.stringify(gw), '$labels.job']);
    const ksm = (metric: string) => selector(metric, [matcher('job', this.kubeStateMetricsJob)]);
    const cronDeadline = own(CRONJOB_DEADLINE);
    const kubeJobs = new KubeJobs(this.kubeStateMetricsJob, (extra) => jobSeries(JOB_INFO, gw, extra));
    // The last success of a job by the Pushgateway, or of a Job of its CronJob by Kubernetes.
    const lastGood = [
      'max by (job) (',
      `  ${byJob(JOB_LAST_SUCCESS)}`,
      '  or',
      `  ${withLabel(kubeJobs.lastSuccessfulTimes().split('\n').join('\n  '), 'source', 'cronjob')}`,
      ')',
    ];
    const failedKubeJob = byJob(JOB_LAST_FAILED_KUBE_JOB);
    const tolerance = PUSHED_TIMESTAMP_TOLERANCE.toSeconds();
    const pushedTimestamp = raw('batch_job_last_success_timestamp_seconds');
    return {
      name: `${this.prefix}.jobs`,
      rules: [
        ...jobRecords({ gateway: gw, gatewayMatchers: pushedMatchers(this.pushgateway), up: pushgatewaySelector(this.pushgateway, 'up'), gap: this.gap, kubeJobs })
          .map((r) => this.alerts.record(r.record, r.expr)),
        this.alerts.alert('BatchJobFailure', {
          // A pushed failure (the value is its push time), or a failed Job of the job's CronJob that
          // no success followed (the value is its start).
          expr: perJobAlert(alertLabels(SEVERITY_LABELS.failure), [
            `${own(JOB_LAST_PUSH)} and on (${RESULT_LABELS}) ${own(JOB_LAST_RUN_SUCCESS)} == 0`,
            'or on (job)',
            `${failedKubeJob} > on (job) ${lastGood.join('\n    ')}`,
            'or on (job)',
            `${failedKubeJob} unless on (job) ${lastGood.join('\n    ')}`,
          ]),
          for: this.forDurations.failure,
          summary: 'Batch job {{ $labels.job }} failed',
          description: this.failureDescription(),
          jobDashboard: true,
        }),
        this.alerts.alert('BatchJobDurationHigh', {
          expr: perJobAlert(alertLabels(SEVERITY_LABELS.durationHigh), [`${own(JOB_LAST_RUN_DURATION)} > on (job) group_left () ${maxDuration}`]),
          for: this.forDurations.durationHigh,
          summary: 'Batch job {{ $labels.job }} ran longer than its max duration',
          description: 'The most recent run of batch job {{ $labels.job }} took {{ $value | humanizeDuration }}, '
            + `longer than its maximum of ${threshold(Threshold.MAX_DURATION)}.`,
          jobDashboard: true,
        }),
        this.alerts.alert('BatchJobRunningTooLong', {
          // A Job of the job's CronJob active longer than the max duration (kube-state-metrics), or a
          // run that pushed its start (`batch_job_running 1`) longer ago than that and no result since.
          expr: perJobAlert(alertLabels(SEVERITY_LABELS.durationHigh), [
            `(${kubeJobs.activeSeconds().split('\n').join('\n    ')})`,
            `> on (job) group_left () ${maxDuration}`,
            'or',
            `(time() - (${raw('push_time_seconds')} == on (${RESULT_LABELS}) group_left () max by (${RESULT_LABELS}) (${raw('push_time_seconds')}))`,
            `  and ${raw(BATCH_JOB_METRICS.running)} == 1)`,
            `> on (job) group_left () ${maxDuration}`,
          ]),
          for: this.forDurations.runningTooLong,
          summary: 'Batch job {{ $labels.job }} has been running longer than its max duration',
          description: 'A run of batch job {{ $labels.job }} started {{ $value | humanizeDuration }} ago and has not finished; '
            + `its maximum is ${threshold(Threshold.MAX_DURATION)}. It may hang, wait for a resource, or be stuck before it starts (image pull, scheduling). `
            + 'The alert clears when the run ends.',
          jobDashboard: true,
        }),
        this.alerts.alert('BatchJobNotRunning', {
          // First branch: the last success is too old; second: none ever, and the job was declared
          // longer than its deadline ago. The value is the time waited.
          expr: perJobAlert(alertLabels(SEVERITY_LABELS.notRunning), [
            `${since(byJob(JOB_LAST_SUCCESS))} > on (job) ${deadline}`,
            'or',
            `${since(`${byJob(JOB_DECLARED)} unless on (job) ${own(JOB_LAST_SUCCESS)}`)} > on (job) ${deadline}`,
          ]),
          for: this.forDurations.notRunning,
          summary: 'Batch job {{ $labels.job }} has not succeeded in time',
          description: `Batch job {{ $labels.job }} {{ with ${this.alerts.query(`${JOB_LAST_SUCCESS}{${PUSHGATEWAY_LABEL}=%q,job=%q}`, [JSON.stringify(gw), '$labels.job'])} }}`
            + 'has reported no successful run in the last {{ $value | humanizeDuration }}'
            + '{{ else }}has never reported a successful run since it was declared to Prometheus {{ $value | humanizeDuration }} ago{{ end }}; '
            + `it is expected to succeed every ${threshold(Threshold.INTERVAL)} (deadline with grace: ${threshold(Threshold.DEADLINE)}).`,
          jobDashboard: true,
        }),
        this.alerts.alert('BatchJobBadTimestamp', {
          // Future (a pod clock ahead), milliseconds, +Inf, or NaN (the only value not equal to itself).
          expr: perJobAlert(own(JOB_INFO), [
            `${pushedTimestamp} > ${raw('push_time_seconds')} + ${tolerance}`,
            'or',
            `${pushedTimestamp} != ${pushedTimestamp}`,
          ]),
          for: this.forDurations.badTimestamp,
          severity: AlertSeverity.WARNING,
          summary: 'Batch job {{ $labels.job }} pushes a bad last-success timestamp',
          description: 'Batch job {{ $labels.job }} pushed batch_job_last_success_timestamp_seconds {{ $value }}, '
            + `more than ${PUSHED_TIMESTAMP_TOLERANCE.toMinutes()} minutes after its push by the Pushgateway's clock (a clock ahead, milliseconds instead of seconds, +Inf), or NaN. `
            + 'The rules ignore it and take the job\'s last success from the time of its pushes; fix the client so that the dashboard and other readers see the right time.',
          jobDashboard: true,
        }),
        this.alerts.alert('BatchCronJobNoRecentSuccess', {
          // No success for too long, or (second branch) none ever since the CronJob was created;
          // a suspended CronJob is left alone.
          expr: [
            `max without (${PUSHGATEWAY_LABEL}) (`,
            `  0 * ${cronDeadline}`,
            '  + on (namespace, cronjob) group_left ()',
            '  (',
            '    (',
            `      time() - max by (namespace, cronjob) (${ksm('kube_cronjob_status_last_successful_time')})`,
            '      or',
            `      time() - max by (namespace, cronjob) (${ksm('kube_cronjob_created')})`,
            `        unless on (namespace, cronjob) ${ksm('kube_cronjob_status_last_successful_time')}`,
            '    )',
            `    > on (namespace, cronjob) ${cronDeadline}`,
            `    unless on (namespace, cronjob) ${ksm('kube_cronjob_spec_suspend')} == 1`,
            '  )',
            ')',
          ],
          for: this.forDurations.notRunning,
          summary: 'CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded in time',
          description: 'CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has had no successful Job for {{ $value | humanizeDuration }} '
            + `(kube-state-metrics); it is expected to succeed within ${this.alerts.thresholdText(`${CRONJOB_DEADLINE}{${PUSHGATEWAY_LABEL}=%q,namespace=%q,cronjob=%q}`,
              [JSON.stringify(gw), '$labels.namespace', '$labels.cronjob'])}. `
            + 'Its pods may not even start: check its Jobs and events.',
        }),
      ],
    };
  }

  /**
   * How the job failed, as the on-call engineer needs it: each failed container's push with its
   * exit code or signal ("exited 3", "killed by SIGKILL"), and the failed Kubernetes Job with its
   * reason ("OOMKilled", "DeadlineExceeded", "BackoffLimitExceeded") unless a success followed it.
   */
  private failureDescription(): string {
    const gw = JSON.stringify(this.gateway);
    const own = (metric: string, extra = '') => `${metric}{${PUSHGATEWAY_LABEL}=%q,job=%q${extra}}`;
    const job = [gw, '$labels.job'];
    const pushed = this.alerts.query(`${own(JOB_LAST_PUSH)} and on (${RESULT_LABELS}) ${own(JOB_LAST_RUN_SUCCESS)} == 0`, [...job, ...job]);
    const container = [...job, '.Labels.batch_container'];
    const signal = this.alerts.query(own(JOB_LAST_RUN_EXIT_SIGNAL, `,${BATCH_CONTAINER_LABEL}=%q`), container);
    const exit = this.alerts.query(`${own(JOB_LAST_RUN_EXIT_CODE, `,${BATCH_CONTAINER_LABEL}=%q`)} > 0`, container);
    const kube = this.alerts.query(
      `${own(JOB_LAST_FAILED_KUBE_JOB)} unless on (job) (max by (job) (${own(JOB_LAST_SUCCESS)}) >= on (job) max by (job) (${own(JOB_LAST_FAILED_KUBE_JOB)}))`,
      [...job, ...job, ...job]);
    return 'Batch job {{ $labels.job }} failed.'
      + `{{ range ${pushed} }} {{ with .Labels.${BATCH_CONTAINER_LABEL} }}Container {{ . }} of its most recent run{{ else }}Its most recent run{{ end }} `
      + 'pushed a failure at {{ .Value | humanizeTimestamp }}'
      + `{{ with ${signal} }}: killed by {{ (. | first).Labels.signal }}{{ else }}{{ with ${exit} }}: exited {{ . | first | value }}{{ end }}{{ end }}.{{ end }}`
      + `{{ range ${kube} }} Kubernetes Job {{ .Labels.namespace }}/{{ .Labels.job_name }}, started at {{ .Value | humanizeTimestamp }}, failed: {{ .Labels.reason }}.{{ end }}`
      + ' The alert clears when a later run succeeds.';
  }

  private checkUniqueRuleName(namespace: string): void {
    const others = Chart.of(this).node.findAll()
      .filter((c): c is BatchJobAlerts => c instanceof BatchJobAlerts && c !== this);
    if (others.some((o) => o.ruleName === this.ruleName && o.pushgateway.namespace === namespace)) {
      throw invalidInput(this, 'name', this.ruleName.slice(0, -'-rules'.length),
        `another BatchJobAlerts already defines PrometheusRule ${namespace}/${this.ruleName}: give this one another \`name\``);
    }
  }
}
