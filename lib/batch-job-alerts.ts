import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  PrometheusRule,
  PrometheusRuleSpecGroups,
  PrometheusRuleSpecGroupsRules,
  PrometheusRuleSpecGroupsRulesExpr,
} from '../imports/monitoring.coreos.com';
import { AlertSeverity, BatchCronJob, BatchJob } from './batch-job';
import { JobRegistry, RegisteredCronJob, RegisteredJob } from './job-registry';
import {
  CRONJOB_DEADLINE, JOB_DECLARED, JOB_INFO, JOB_LAST_PUSH, JOB_LAST_RUN_DURATION, JOB_LAST_RUN_SUCCESS, JOB_LAST_SUCCESS, JOB_THRESHOLD,
  CRONJOB_LABEL, jobSeries, PUSHGATEWAY_LABEL, PUSHGATEWAY_OUTAGE, pushgatewayId, RECORD_MEMORY, REGISTRY_LABEL, SEVERITY_LABELS, Threshold, THRESHOLD_LABEL,
  thresholdSeries,
} from './job-series';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toPrometheusDuration } from './prometheus-duration';
import { lastOverTime, matcher, quoteLabelValue, selector } from './promql';
import { IPushgateway } from './pushgateway';
import { pushgatewayNearCapacity } from './pushgateway-capacity';
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

const DEFAULT_FOR = Duration.minutes(5);
// A rejected push is a single event (often the first 4xx, which only creates the counter): it
// keeps the alert active this long.
const REJECTED_PUSH_WINDOW = Duration.hours(1);
// How long no replica may be scrapeable before it counts as an outage that jobs could not report
// through; shorter blips leave the jobs' deadlines alone.
const OUTAGE_WINDOW = Duration.minutes(5);
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
  private readonly runbookBaseUrl?: string;
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

    if (props.runbookBaseUrl !== undefined) {
      this.runbookBaseUrl = checkRunbookBaseUrl(this, props.runbookBaseUrl);
    }
    this.gap = props.scrapeGapTolerance ?? Duration.minutes(10);
    checkPositive(this, 'scrapeGapTolerance', this.gap);
    this.forDurations = props.forDurations ?? {};
    this.kubeStateMetricsJob = props.kubeStateMetricsJob ?? 'kube-state-metrics';
    this.gateway = pushgatewayId(this.pushgateway);

    const flavour = props.flavour ?? this.pushgateway.flavour;
    this.registry = props.registry ?? new JobRegistry(this, 'Jobs', { pushgateway: this.pushgateway, name, flavour });
    this.rule = new PrometheusRule(this, 'Resource', {
      metadata: {
        name: this.ruleName,
        namespace,
        labels: { ...this.pushgateway.labels, ...flavour.ruleLabels() },
      },
      spec: { groups: [this.gatewayGroup(), this.jobsGroup()] },
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
   * Records that condense the Pushgateway's series into one series per job, then the job alerts,
   * which join them with the registry's thresholds on `job`.
   */
  private jobsGroup(): PrometheusRuleSpecGroups {
    const gw = this.gateway;
    const raw = (metric: string) => selector(metric, this.gatewayMatchers());
    const own = (metric: string) => jobSeries(metric, gw);
    // A record of the current series, or, for a job whose series are gone (Pushgateway pod replaced,
    // failed scrapes), its last value for scrapeGapTolerance: the gap neither resets a pending
    // alert nor resolves a firing one. Bridging the one series per job, not every raw series, keeps
    // the cost per evaluation low.
    const bridged = (metric: string, current: string[]) => [
      ...current,
      `or on (job) max by (job) ${lastOverTime(own(metric), this.gap)}`,
    ];
    const memory = (metric: string) => lastOverTime(own(metric), RECORD_MEMORY);
    const up = this.ownSelector('up');
    const outageWindow = toPrometheusDuration(OUTAGE_WINDOW);
    const deadline = thresholdSeries(gw, Threshold.DEADLINE);
    // The labels of a job's alerts, with `severity` taken from the alert's own severity label.
    const alertLabels = (severity: string) => `label_replace(${own(JOB_INFO)}, "severity", "$1", ${quoteLabelValue(severity)}, "(.+)")`;
    const perJobAlert = (severity: string, condition: string[]) => [
      `max without (${INFO_ONLY_LABELS.join(', ')}) (`,
      `  ${alertLabels(severity)}`,
      // group_left keeps every label of the declaration (one-to-one matching with `on` would keep only `job`).
      '  * on (job) group_left ()',
      '  (',
      ...condition.map((line) => `    ${line}`),
      '  )',
      ')',
    ];
    // The deadline counts from the later of the last success (or, never reported, the declaration)
    // and the end of the last Pushgateway outage, when nobody could report.
    const since = (reference: string) => `time() - clamp_min(${reference}, scalar(${own(PUSHGATEWAY_OUTAGE)}))`;
    const threshold = (name: Threshold) => this.thresholdText(`${JOB_THRESHOLD}{${PUSHGATEWAY_LABEL}=%q,job=%q,${THRESHOLD_LABEL}="${name}"}`,
      [JSON.stringify(gw), '$labels.job']);
    const ksm = (metric: string) => selector(metric, [matcher('job', this.kubeStateMetricsJob)]);
    const cronDeadline = own(CRONJOB_DEADLINE);
    return {
      name: `${this.prefix}.jobs`,
      rules: [
        this.record(JOB_LAST_PUSH, bridged(JOB_LAST_PUSH, [
          'max by (job) (',
          `  ${raw('push_time_seconds')}`,
          '  and',
          `  ${raw('batch_job_success')}`,
          ')',
        ])),
        // Of several groups or replicas with the newest push, a failure wins.
        this.record(JOB_LAST_RUN_SUCCESS, bridged(JOB_LAST_RUN_SUCCESS, [
          'min by (job) (',
          `  ${raw('batch_job_success')}`,
          '  and',
          `  ${raw('push_time_seconds')} == on (job) group_left () ${own(JOB_LAST_PUSH)}`,
          ')',
        ])),
        this.record(JOB_LAST_RUN_DURATION, bridged(JOB_LAST_RUN_DURATION, [
          'max by (job) (',
          `  ${raw('batch_job_duration_seconds')}`,
          '  and',
          `  ${raw('push_time_seconds')}`,
          '    == on (job) group_left ()',
          '  max by (job) (',
          `    ${raw('push_time_seconds')}`,
          '    and',
          `    ${raw('batch_job_duration_seconds')}`,
          '  )',
          ')',
        ])),
        // Remembered while the job stays declared, so that an outage of the Pushgateway, a
        // replaced pod without persistence, or a group deleted by the cleanup do not lose it.
        this.record(JOB_LAST_SUCCESS, [
          'max by (job) (',
          `  ${raw('batch_job_last_success_timestamp_seconds')}`,
          '  or',
          `  ${memory(JOB_LAST_SUCCESS)} and on (job) ${own(JOB_INFO)}`,
          ')',
        ]),
        this.record(PUSHGATEWAY_OUTAGE, [
          `vector(time()) and on () (max(max_over_time(${up}[${outageWindow}])) == 0 or on () absent_over_time(${up}[${outageWindow}]))`,
          `or on () max(${memory(PUSHGATEWAY_OUTAGE)})`,
          'or on () vector(0)',
        ]),
        this.alert('BatchJobFailure', {
          // The value is the time of the failed push.
          expr: perJobAlert(SEVERITY_LABELS.failure, [`${own(JOB_LAST_PUSH)} and on (job) ${own(JOB_LAST_RUN_SUCCESS)} == 0`]),
          for: this.forDurations.failure,
          summary: 'Batch job {{ $labels.job }} failed',
          description: 'The most recent run of batch job {{ $labels.job }} reported failure (batch_job_success 0, '
            + 'pushed at {{ $value | humanizeTimestamp }}). The alert clears when a later run succeeds.',
        }),
        this.alert('BatchJobDurationHigh', {
          expr: perJobAlert(SEVERITY_LABELS.durationHigh, [`${own(JOB_LAST_RUN_DURATION)} > on (job) ${thresholdSeries(gw, Threshold.MAX_DURATION)}`]),
          for: this.forDurations.durationHigh,
          summary: 'Batch job {{ $labels.job }} ran longer than its max duration',
          description: 'The most recent run of batch job {{ $labels.job }} took {{ $value | humanizeDuration }}, '
            + `longer than its maximum of ${threshold(Threshold.MAX_DURATION)}.`,
        }),
        this.alert('BatchJobNotRunning', {
          // First branch: the last success is too old; second: none ever, and the job was declared
          // longer than its deadline ago. The value is the time waited.
          expr: perJobAlert(SEVERITY_LABELS.notRunning, [
            `${since(own(JOB_LAST_SUCCESS))} > on (job) ${deadline}`,
            'or',
            `${since(`${own(JOB_DECLARED)} unless on (job) ${own(JOB_LAST_SUCCESS)}`)} > on (job) ${deadline}`,
          ]),
          for: this.forDurations.notRunning,
          summary: 'Batch job {{ $labels.job }} has not succeeded in time',
          description: `Batch job {{ $labels.job }} {{ with ${this.query(`${JOB_LAST_SUCCESS}{${PUSHGATEWAY_LABEL}=%q,job=%q}`, [JSON.stringify(gw), '$labels.job'])} }}`
            + 'has reported no successful run in the last {{ $value | humanizeDuration }}'
            + '{{ else }}has never reported a successful run since it was declared to Prometheus {{ $value | humanizeDuration }} ago{{ end }}; '
            + `it is expected to succeed every ${threshold(Threshold.INTERVAL)} (deadline with grace: ${threshold(Threshold.DEADLINE)}).`,
        }),
        this.alert('BatchCronJobNoRecentSuccess', {
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
            + `(kube-state-metrics); it is expected to succeed within ${this.thresholdText(`${CRONJOB_DEADLINE}{${PUSHGATEWAY_LABEL}=%q,namespace=%q,cronjob=%q}`,
              [JSON.stringify(gw), '$labels.namespace', '$labels.cronjob'])}. `
            + 'Its pods may not even start: check its Jobs and events.',
        }),
      ],
    };
  }

  /** The alerts about the Pushgateway itself and about pushes to any of its groups. */
  private gatewayGroup(): PrometheusRuleSpecGroups {
    const gateway = this.gateway;
    const last = (metric: string) => lastOverTime(selector(metric, this.gatewayMatchers()), this.gap);
    const up = this.ownSelector('up');
    const rejected = this.ownSelector('pushgateway_http_requests_total', [matcher('handler', 'push'), matcher('code', '4..', '=~')]);
    const window = toPrometheusDuration(REJECTED_PUSH_WINDOW);
    const replicas = this.pushgateway.replicas;
    return {
      name: `${this.prefix}.pushgateway`,
      rules: [
        this.alert('BatchJobPushFailed', {
          // Per group, across replicas: a later successful push to any replica clears it.
          expr: [
            'max without (pod, endpoint, service, container) (',
            `  ${last('push_failure_time_seconds')}`,
            ')',
            '>',
            'max without (pod, endpoint, service, container) (',
            `  ${last('push_time_seconds')}`,
            ')',
          ],
          for: this.forDurations.pushFailed,
          severity: AlertSeverity.WARNING,
          summary: 'Pushes of batch job {{ $labels.job }} are rejected',
          description: `Pushgateway ${gateway} rejected a push to a group of job {{ $labels.job }} at {{ $value | humanizeTimestamp }}, `
            + 'later than its last successful push: the group keeps the metrics of that earlier push, if any.',
        }),
        this.alert('PushgatewayDown', {
          expr: [
            `max by (namespace, job) (${up}) == 0`,
            'or',
            `absent(${up})`,
          ],
          for: this.forDurations.pushgatewayDown,
          severity: AlertSeverity.CRITICAL,
          summary: `Pushgateway ${gateway} is down`,
          description: `Prometheus cannot scrape any replica of Pushgateway ${gateway}: its targets are down or missing. `
            + 'Batch jobs cannot push, and the alerts about them see no new data.',
        }),
        ...(replicas > 1 ? [this.alert('PushgatewayReplicaDown', {
          // With no replica up, PushgatewayDown fires instead (the count is then empty).
          expr: [`count by (namespace, job) (${up} == 1) < ${replicas}`],
          for: this.forDurations.pushgatewayReplicaDown,
          severity: AlertSeverity.WARNING,
          summary: `A replica of Pushgateway ${gateway} is down`,
          description: `Only {{ $value }} of the ${replicas} replicas of Pushgateway ${gateway} can be scraped. `
            + 'Pushers still reach the others and the alerts take the newest push of each job, but one more failure is an outage.',
        })] : []),
        this.alert('PushgatewayNearCapacity', {
          ...pushgatewayNearCapacity({ name: this.pushgateway.name, namespace: this.pushgateway.namespace, kubeStateMetricsJob: this.kubeStateMetricsJob }),
          for: Duration.minutes(15),
          severity: AlertSeverity.WARNING,
        }),
        this.alert('PushgatewayPushesRejected', {
          // A counter series appears with its first rejection, which increase() cannot see: a
          // series that did not exist an hour ago counts as well.
          expr: [
            `sum by (namespace, job) (increase(${rejected}[${window}])) > 0`,
            'or',
            'count by (namespace, job) (',
            `  ${rejected}`,
            '  unless',
            `  ${rejected} offset ${window}`,
            ')',
          ],
          for: this.forDurations.pushesRejected,
          severity: AlertSeverity.WARNING,
          summary: `Pushgateway ${gateway} rejects pushes`,
          description: `Pushgateway ${gateway} answered pushes with a 4xx status in the last ${window}: `
            + 'malformed or inconsistent pushes never reach a group, so some job\'s results are missing.',
        }),
      ],
    };
  }

  /** The Pushgateway's own metrics: `job` is its scrape job, the Service name. */
  private ownSelector(metric: string, extra: string[] = []): string {
    return selector(metric, [matcher('job', this.pushgateway.name), matcher('namespace', this.pushgateway.namespace), ...extra]);
  }

  /** Series the Pushgateway holds for pushed groups: `job` is the pushed one (honorLabels), the target labels are its own. */
  private gatewayMatchers(): string[] {
    return [matcher('namespace', this.pushgateway.namespace), matcher('service', this.pushgateway.name)];
  }

  /**
   * An annotation template that shows a threshold series as a duration, e.g. the job's max
   * duration: the value lives in Prometheus, not in the rule, so the rule is the same for every job.
   */
  private thresholdText(format: string, args: string[]): string {
    return `{{ with ${this.query(format, args)} }}{{ . | first | value | humanizeDuration }}{{ end }}`;
  }

  /** A template pipeline that runs a PromQL query built with `printf` (label values quoted with `%q`). */
  private query(format: string, args: string[]): string {
    return `printf ${JSON.stringify(format)} ${args.join(' ')} | query`;
  }

  private record(name: string, expr: string[]): PrometheusRuleSpecGroupsRules {
    return {
      record: name,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(expr.join('\n')),
      labels: { [PUSHGATEWAY_LABEL]: this.gateway },
    };
  }

  private alert(name: string, spec: {
    expr: string[];
    for?: Duration;
    /** A fixed severity; the job alerts take theirs from the job's declaration. */
    severity?: AlertSeverity;
    summary: string;
    description: string;
  }): PrometheusRuleSpecGroupsRules {
    const forDuration = spec.for ?? DEFAULT_FOR;
    return {
      alert: name,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(spec.expr.join('\n')),
      for: forDuration.toMilliseconds() > 0 ? toPrometheusDuration(forDuration) : undefined,
      labels: spec.severity ? { severity: spec.severity } : undefined,
      annotations: {
        summary: spec.summary,
        description: spec.description,
        ...(this.runbookBaseUrl ? { runbook_url: `${this.runbookBaseUrl}#${name.toLowerCase()}` } : {}),
      },
    };
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

/** The runbook base URL as given, if it is an http(s) URL that cannot run as an annotation template. */
function checkRunbookBaseUrl(scope: Construct, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || value.includes('#') || value.includes('{{') || /\s/.test(value)) {
    throw invalidInput(scope, 'runbookBaseUrl', value,
      'use the http(s) URL of docs/runbooks.md without a "#fragment" (each alert appends its own), e.g. "https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md"');
  }
  return value;
}
