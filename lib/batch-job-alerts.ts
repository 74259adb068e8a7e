import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  PrometheusRule,
  PrometheusRuleSpecGroups,
  PrometheusRuleSpecGroupsRules,
  PrometheusRuleSpecGroupsRulesExpr,
} from '../imports/monitoring.coreos.com';
import { AlertSeverity, BatchJob, defaultGrace } from './batch-job';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toPrometheusDuration } from './prometheus-duration';
import { isPromLabelName, matcher, selector } from './promql';
import { Pushgateway } from './pushgateway';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkJobThresholds, checkPositive, invalidInput } from './validation';

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
   * How long the rules keep using the last scraped values of a Pushgateway group when the
   * Pushgateway cannot be scraped (pod replaced, failed scrapes), so that such a gap neither resets
   * a pending alert nor resolves a firing one. A deleted group keeps counting for this long.
   * @default Duration.minutes(10)
   */
  readonly scrapeGapTolerance?: Duration;
  /**
   * The `for` of each alert.
   * @default - 5 minutes for every alert
   */
  readonly forDurations?: BatchJobAlertsForDurations;
  /**
   * The scrape `job` label of kube-state-metrics, for `addCronJob`.
   * @default 'kube-state-metrics' (both kube-prometheus flavours)
   */
  readonly kubeStateMetricsJob?: string;
}

/** A Kubernetes CronJob watched through kube-state-metrics (see `BatchJobAlerts.addCronJob`). */
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

/** Props for `BatchJobAlerts`. */
export interface BatchJobAlertsProps extends BatchJobAlertsOptions {
  /** The Pushgateway the jobs push to; the rules select its series and alert on its health. */
  readonly pushgateway: Pushgateway;
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
// Labels the rules set themselves; a job's static labels may not set them.
const RESERVED_LABELS = ['alertname', 'job', 'severity'];
// Bytes of rule groups (as compact JSON) per PrometheusRule. Far below etcd's request limit (1.5 MiB),
// and with the object's metadata still below the 256 KiB (262,144 bytes) that client-side
// `kubectl apply` can keep in its last-applied-configuration annotation.
const GROUP_BYTES_PER_RULE = 200_000;

/**
 * The PrometheusRules with the batch-job alerts for one Pushgateway: `BatchJobFailure`,
 * `BatchJobDurationHigh` and `BatchJobNotRunning` for every job added with `addJob` (one rule group
 * per job, with the job's own thresholds), and `BatchJobPushFailed`, `PushgatewayDown` and
 * `PushgatewayPushesRejected` once for the Pushgateway.
 *
 * Every expression selects the Pushgateway's series by the target labels `namespace` and `service`
 * and aggregates away `pod`, `endpoint` and `container`, which change when the Pushgateway pod is
 * replaced; recent values are bridged over scrape gaps (`scrapeGapTolerance`).
 *
 * The rule groups fill PrometheusRules of at most about 200 kB each (`<name>-rules`, then
 * `<name>-rules-2`, `<name>-rules-3`, ...), so that a thousand jobs stay within Kubernetes' object
 * size limits. The split depends only on the set of groups, not on the order of the add calls; the
 * Pushgateway's own group is always in the first one.
 */
export class BatchJobAlerts extends Construct {
  /** The name of the first PrometheusRule, `<name>-rules`; the next ones append `-2`, `-3`, ... */
  public readonly ruleName: string;
  /** The Pushgateway the rules are about. */
  public readonly pushgateway: Pushgateway;
  private readonly prefix: string;
  private readonly runbookBaseUrl?: string;
  private readonly gap: Duration;
  private readonly forDurations: BatchJobAlertsForDurations;
  private readonly jobGroups = new Map<string, PrometheusRuleSpecGroups>();
  private readonly cronJobGroups = new Map<string, PrometheusRuleSpecGroups>();
  private readonly kubeStateMetricsJob: string;
  private readonly gateway: PrometheusRuleSpecGroups;
  // The groups of each PrometheusRule, in the order of `chunks`; `pack` refills them.
  private readonly chunkGroups: PrometheusRuleSpecGroups[][] = [];
  private readonly chunks: PrometheusRule[] = [];
  private readonly ruleLabels: Record<string, string>;
  private readonly gatewayBytes: number;
  // The job and CronJob groups with their sizes, kept sorted by name.
  private readonly sorted: Array<{ group: PrometheusRuleSpecGroups; bytes: number }> = [];

  constructor(scope: Construct, id: string, props: BatchJobAlertsProps) {
    super(scope, id);
    refuseDuplicateObjects(this);
    this.pushgateway = props.pushgateway;
    const name = props.name ?? this.pushgateway.name;
    // Room for the suffix of the further PrometheusRules, `-rules-<n>`.
    checkDnsLabel(this, 'name', name, 253 - '-rules-9999'.length);
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

    const flavour = props.flavour ?? this.pushgateway.flavour;
    this.ruleLabels = { ...this.pushgateway.labels, ...flavour.ruleLabels() };
    this.gateway = this.gatewayGroup();
    this.gatewayBytes = bytesOf(this.gateway);
    this.pack();
  }

  /**
   * The PrometheusRules holding the groups added so far: one, plus one more each time the groups
   * outgrow the size budget.
   */
  public get rules(): PrometheusRule[] {
    return [...this.chunks];
  }

  /** The jobs added so far, in the order they were added. */
  public get jobs(): string[] {
    return [...this.jobGroups.keys()];
  }

  /**
   * Adds `BatchJobFailure`, `BatchJobDurationHigh` and `BatchJobNotRunning` for `job`, in a rule
   * group of its own.
   * @returns the rule group added
   */
  public addJob(job: BatchJob): PrometheusRuleSpecGroups {
    this.checkJob(job);
    const grace = job.grace ?? defaultGrace(job.interval);
    const severities = job.severities ?? {};
    // `job` repeats what the expressions return; it also tells the per-job rules apart for
    // `promtool check rules`, whose linter reports same-named rules with equal labels as duplicates.
    const labels = { ...job.labels, job: job.name };
    const jobMatchers = [matcher('job', job.name), ...this.gatewayMatchers()];
    const sel = (metric: string) => selector(metric, jobMatchers);
    const last = (metric: string, range: Duration = this.gap) => `last_over_time(${sel(metric)}[${toPrometheusDuration(range)}])`;
    const expected = Duration.millis(job.interval.toMilliseconds() + grace.toMilliseconds());
    const expectedSeconds = seconds(expected);
    const maxDuration = toPrometheusDuration(job.maxDuration);

    const group: PrometheusRuleSpecGroups = {
      name: `${this.prefix}.job.${job.name}`,
      rules: [
        this.alert('BatchJobFailure', {
          // The latest failed run is the latest run of all: a later successful run (a newer push,
          // also to another group such as a per-run `job_id`) clears it.
          expr: [
            'max by (namespace, job) (',
            `  ${last('push_time_seconds')}`,
            '  and',
            `  ${last('batch_job_success')} == 0`,
            ')',
            '>=',
            'max by (namespace, job) (',
            `  ${last('push_time_seconds')}`,
            '  and',
            `  ${last('batch_job_success')}`,
            ')',
          ],
          for: this.forDurations.failure,
          severity: severities.failure ?? AlertSeverity.CRITICAL,
          labels,
          summary: 'Batch job {{ $labels.job }} failed',
          description: 'The most recent run of batch job {{ $labels.job }} reported failure (batch_job_success 0, '
            + 'pushed at {{ $value | humanizeTimestamp }}). The alert clears when a later run succeeds.',
        }),
        this.alert('BatchJobDurationHigh', {
          // The duration of the job's most recent run: the group with the latest push.
          expr: [
            'max by (namespace, job) (',
            `  ${last('batch_job_duration_seconds')}`,
            '  and',
            `  ${last('push_time_seconds')}`,
            '    == on (namespace, job) group_left ()',
            '  max by (namespace, job) (',
            `    ${last('push_time_seconds')}`,
            '    and',
            `    ${last('batch_job_duration_seconds')}`,
            '  )',
            ')',
            `> ${seconds(job.maxDuration)}`,
          ],
          for: this.forDurations.durationHigh,
          severity: severities.durationHigh ?? AlertSeverity.WARNING,
          labels,
          summary: `Batch job {{ $labels.job }} ran longer than ${maxDuration}`,
          description: 'The most recent run of batch job {{ $labels.job }} took {{ $value | humanizeDuration }}, '
            + `longer than its maximum of ${maxDuration}.`,
        }),
        this.alert('BatchJobNotRunning', {
          // The second branch covers a job that never reported a success (or whose group is gone);
          // both look at the same window, so exactly one of them answers and the alert never flaps
          // between them. Its value is the window: no success in at least that long.
          expr: [
            `time() - max by (namespace, job) (${last('batch_job_last_success_timestamp_seconds', expected)}) > ${expectedSeconds}`,
            'or',
            'max by (namespace, job) (',
            `  absent_over_time(${sel('batch_job_last_success_timestamp_seconds')}[${toPrometheusDuration(expected)}])`,
            `) * ${expectedSeconds}`,
          ],
          for: this.forDurations.notRunning,
          severity: severities.notRunning ?? AlertSeverity.CRITICAL,
          labels,
          summary: 'Batch job {{ $labels.job }} has not succeeded in time',
          description: 'Batch job {{ $labels.job }} has reported no successful run in the last {{ $value | humanizeDuration }}; '
            + `it is expected to succeed every ${toPrometheusDuration(job.interval)} (plus ${toPrometheusDuration(grace)} grace).`,
        }),
      ],
    };
    this.jobGroups.set(job.name, group);
    this.insert(group);
    return group;
  }

  /**
   * Adds `BatchCronJobNoRecentSuccess`: the kube-state-metrics view of a Kubernetes CronJob, which
   * catches a job that never even starts (bad image, quota, a suspended controller) and so never
   * pushes. kube-prometheus's KubeJobFailed already covers failed Jobs; this covers missing
   * successes, which no kube-prometheus alert does.
   * @returns the rule group added
   */
  public addCronJob(cronJob: BatchCronJob): PrometheusRuleSpecGroups {
    checkDnsLabel(this, 'cronJob.name', cronJob.name, 52);
    checkDnsLabel(this, 'cronJob.namespace', cronJob.namespace);
    checkPositive(this, `interval of CronJob "${cronJob.name}"`, cronJob.interval);
    if (cronJob.grace) checkPositive(this, `grace of CronJob "${cronJob.name}"`, cronJob.grace);
    this.checkStaticLabels(`CronJob "${cronJob.name}"`, cronJob.labels ?? {});
    const key = `${cronJob.namespace}/${cronJob.name}`;
    if (this.cronJobGroups.has(key)) {
      throw invalidInput(this, 'cronJob', key, 'each CronJob is added once: remove the second addCronJob() call');
    }
    const grace = cronJob.grace ?? defaultGrace(cronJob.interval);
    const expected = Duration.millis(cronJob.interval.toMilliseconds() + grace.toMilliseconds());
    const ksm = (metric: string) => selector(metric, [
      matcher('job', this.kubeStateMetricsJob), matcher('namespace', cronJob.namespace), matcher('cronjob', cronJob.name),
    ]);
    const group: PrometheusRuleSpecGroups = {
      name: `${this.prefix}.cronjob.${cronJob.namespace}.${cronJob.name}`,
      rules: [this.alert('BatchCronJobNoRecentSuccess', {
        // No success for too long, or (second branch) none ever since the CronJob was created;
        // a suspended CronJob is left alone.
        expr: [
          '(',
          `  time() - max by (namespace, cronjob) (${ksm('kube_cronjob_status_last_successful_time')}) > ${seconds(expected)}`,
          '  or',
          `  (time() - max by (namespace, cronjob) (${ksm('kube_cronjob_created')}) > ${seconds(expected)})`,
          `    unless on (namespace, cronjob) ${ksm('kube_cronjob_status_last_successful_time')}`,
          ')',
          `unless on (namespace, cronjob) (${ksm('kube_cronjob_spec_suspend')} == 1)`,
        ],
        for: this.forDurations.notRunning,
        severity: cronJob.severity ?? AlertSeverity.WARNING,
        labels: { ...cronJob.labels, cronjob: cronJob.name },
        summary: 'CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded in time',
        description: 'CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has had no successful Job for {{ $value | humanizeDuration }} '
          + `(kube-state-metrics); it is expected to succeed every ${toPrometheusDuration(cronJob.interval)} (plus ${toPrometheusDuration(grace)} grace). `
          + 'Its pods may not even start: check its Jobs and events.',
      })],
    };
    this.cronJobGroups.set(key, group);
    this.insert(group);
    return group;
  }

  /** Adds a group where it sorts (a binary search, not a sort per call: a thousand jobs stay fast). */
  private insert(group: PrometheusRuleSpecGroups): void {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].group.name < group.name) lo = mid + 1;
      else hi = mid;
    }
    this.sorted.splice(lo, 0, { group, bytes: bytesOf(group) });
    this.pack();
  }

  /**
   * Distributes the groups over the PrometheusRules: the Pushgateway group first, then the others
   * sorted by name, each PrometheusRule filled up to the byte budget (next fit), so that the result
   * depends only on the set of groups. Adding a group never lowers the number of PrometheusRules
   * next fit needs, so the ones already created stay non-empty.
   */
  private pack(): void {
    const ends: number[] = [];
    let bytes = this.gatewayBytes;
    this.sorted.forEach((entry, i) => {
      if (bytes + entry.bytes > GROUP_BYTES_PER_RULE) {
        ends.push(i);
        bytes = 0;
      }
      bytes += entry.bytes;
    });
    ends.push(this.sorted.length);
    let from = 0;
    ends.forEach((to, i) => {
      if (i === this.chunks.length) this.addChunk();
      const groups = this.sorted.slice(from, to).map((entry) => entry.group);
      // Sorted by name within each PrometheusRule, as a reviewer would look them up.
      if (i === 0) {
        const at = groups.findIndex((g) => g.name > this.gateway.name);
        groups.splice(at === -1 ? groups.length : at, 0, this.gateway);
      }
      this.chunkGroups[i].splice(0, Infinity, ...groups);
      from = to;
    });
  }

  private addChunk(): void {
    const n = this.chunks.length + 1;
    const groups: PrometheusRuleSpecGroups[] = [];
    this.chunkGroups.push(groups);
    this.chunks.push(new PrometheusRule(this, n === 1 ? 'Resource' : `Resource${n}`, {
      metadata: {
        name: n === 1 ? this.ruleName : `${this.ruleName}-${n}`,
        namespace: this.pushgateway.namespace,
        labels: { ...this.ruleLabels },
      },
      spec: { groups },
    }));
  }

  /** The alerts about the Pushgateway itself and about pushes to any of its groups. */
  private gatewayGroup(): PrometheusRuleSpecGroups {
    const gateway = `${this.pushgateway.namespace}/${this.pushgateway.name}`;
    const last = (metric: string) => `last_over_time(${selector(metric, this.gatewayMatchers())}[${toPrometheusDuration(this.gap)}])`;
    // The Pushgateway's own metrics: `job` is its scrape job, the Service name.
    const own = (metric: string, extra: string[] = []) => selector(metric, [
      matcher('job', this.pushgateway.name), matcher('namespace', this.pushgateway.namespace), ...extra,
    ]);
    const rejected = own('pushgateway_http_requests_total', [matcher('handler', 'push'), matcher('code', '4..', '=~')]);
    const window = toPrometheusDuration(REJECTED_PUSH_WINDOW);
    return {
      name: `${this.prefix}.pushgateway`,
      rules: [
        this.alert('BatchJobPushFailed', {
          expr: [
            'max without (pod, endpoint, service, container) (',
            `  ${last('push_failure_time_seconds')}`,
            '  >',
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
            `min by (namespace, job) (${own('up')}) == 0`,
            'or',
            `absent(${own('up')})`,
          ],
          for: this.forDurations.pushgatewayDown,
          severity: AlertSeverity.CRITICAL,
          summary: `Pushgateway ${gateway} is down`,
          description: `Prometheus cannot scrape Pushgateway ${gateway}: its target is down or missing. `
            + 'Batch jobs cannot push, and the alerts about them see no new data.',
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

  private gatewayMatchers(): string[] {
    return [matcher('namespace', this.pushgateway.namespace), matcher('service', this.pushgateway.name)];
  }

  private alert(name: string, spec: {
    expr: string[];
    for?: Duration;
    severity: AlertSeverity;
    labels?: Record<string, string>;
    summary: string;
    description: string;
  }): PrometheusRuleSpecGroupsRules {
    const forDuration = spec.for ?? DEFAULT_FOR;
    const labels = { ...spec.labels, severity: spec.severity };
    return {
      alert: name,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(spec.expr.join('\n')),
      for: forDuration.toMilliseconds() > 0 ? toPrometheusDuration(forDuration) : undefined,
      labels: Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k as keyof typeof labels]])),
      annotations: {
        summary: spec.summary,
        description: spec.description,
        ...(this.runbookBaseUrl ? { runbook_url: `${this.runbookBaseUrl}#${name.toLowerCase()}` } : {}),
      },
    };
  }

  private checkJob(job: BatchJob): void {
    // Any name is safe in PromQL (it is quoted). It is also a rule label, where Prometheus would
    // expand "{{" as a template; control characters would only make unreadable group names.
    if (!job.name || job.name.includes('{{') || /[\u0000-\u001f\u007f]/.test(job.name)) {
      throw invalidInput(this, 'job name', job.name, 'use the non-empty `job` label the job pushes with, without "{{" or control characters (e.g. "daily-backup")');
    }
    if (this.jobGroups.has(job.name)) {
      throw invalidInput(this, 'job name', job.name, 'each job is added once: remove the second addJob() call or give the job another name');
    }
    checkJobThresholds(this, job);
    this.checkStaticLabels(`job "${job.name}"`, job.labels ?? {});
  }

  private checkStaticLabels(owner: string, labels: Record<string, string>): void {
    for (const [key, value] of Object.entries(labels)) {
      if (!isPromLabelName(key)) {
        throw invalidInput(this, `label name of ${owner}`, key, 'use letters, digits and "_", not starting with a digit or "__" (e.g. "team")');
      }
      if (RESERVED_LABELS.includes(key)) {
        throw invalidInput(this, `label name of ${owner}`, key,
          key === 'severity' ? 'set the severity with `severities` instead' : `"${key}" is set by the rules themselves: use another label name`);
      }
      // Prometheus expands templates in alert labels: `{{` would run as one.
      if (!value || value.includes('{{') || /[\u0000-\u001f\u007f]/.test(value)) {
        throw invalidInput(this, `labels["${key}"] of ${owner}`, value, 'use a non-empty value without "{{" or control characters (e.g. "data-platform")');
      }
    }
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

/** Size of a rule group as compact JSON, which is how the API server and kubectl store it. */
function bytesOf(group: PrometheusRuleSpecGroups): number {
  return Buffer.byteLength(JSON.stringify(group));
}

function seconds(duration: Duration): number {
  return duration.toSeconds({ integral: false });
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
