import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  PrometheusRule,
  PrometheusRuleSpecGroups,
  PrometheusRuleSpecGroupsRules,
  PrometheusRuleSpecGroupsRulesExpr,
} from '../imports/monitoring.coreos.com';
import { AlertSeverity, BatchCronJob, BatchJob, BatchJobAlertSeverities, defaultGrace } from './batch-job';
import {
  CRONJOB_DEADLINE, JOB_DECLARED, JOB_INFO, JOB_THRESHOLD, jobSeries, PUSHGATEWAY_LABEL, pushgatewayId, RECORD_MEMORY,
  SEVERITY_LABELS, Threshold, THRESHOLD_LABEL,
} from './job-series';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toPrometheusDuration } from './prometheus-duration';
import { isPromLabelName, lastOverTime, matcher, selector } from './promql';
import { IPushgateway, Pushgateway } from './pushgateway';
import { checkDnsLabel, checkJobThresholds, checkPositive, checkRequired, invalidInput, REQUIRED_DURATION, REQUIRED_PUSHGATEWAY, REQUIRED_STRING } from './validation';

/** Options of `JobRegistry` that do not depend on a Pushgateway (also the `registry` prop of `BatchMonitoringChart`). */
export interface JobRegistryOptions {
  /**
   * How often Prometheus records the declarations. They change only when the app is deployed, so
   * they need not be recorded at every evaluation of the alerts; the alerts see them as long as this
   * is well below Prometheus's lookback delta (5 minutes). A new job is declared up to this much
   * later than its rules load.
   * @default Duration.minutes(2)
   */
  readonly evaluationInterval?: Duration;
}

/** Props for `JobRegistry`. */
export interface JobRegistryProps extends JobRegistryOptions {
  /** The Pushgateway the jobs push to. */
  readonly pushgateway: IPushgateway;
  /**
   * Prefix of the PrometheusRule name (`<name>-jobs`) and of its rule group names.
   * @default - the Pushgateway's name
   */
  readonly name?: string;
  /**
   * Namespace of the PrometheusRules.
   * @default - the chart's namespace, else the Pushgateway's
   */
  readonly namespace?: string;
  /**
   * The kube-prometheus flavour that loads the rules (it decides the PrometheusRule's labels).
   * @default - the Pushgateway's flavour
   */
  readonly flavour?: KubePrometheusFlavour;
}

/** A job as the registry holds it: every default resolved, the deadline computed once. */
export interface RegisteredJob {
  /** The `job` label the job pushes with. */
  readonly name: string;
  /** The namespace the job runs in: the `namespace` label of its alerts. */
  readonly namespace: string;
  /** How often the job is expected to succeed. */
  readonly interval: Duration;
  /** Extra time after `interval` before a missing success alerts. */
  readonly grace: Duration;
  /** Interval plus grace: BatchJobNotRunning fires when no success came within it. */
  readonly deadline: Duration;
  /** The longest a run may take. */
  readonly maxDuration: Duration;
  /** Static labels of the job's alerts. */
  readonly labels: Record<string, string>;
  /** Severity of each alert about the job, defaults filled in. */
  readonly severities: BatchJobAlertSeverities;
  /** The CronJob that runs the job, in its namespace, if any. */
  readonly cronJob?: string;
}

/** A CronJob as the registry holds it. */
export interface RegisteredCronJob {
  readonly name: string;
  readonly namespace: string;
  readonly interval: Duration;
  readonly grace: Duration;
  /** Interval plus grace. */
  readonly deadline: Duration;
  readonly severity: AlertSeverity;
  readonly labels: Record<string, string>;
}

// Labels the records and rules set themselves; a job's static labels may not set them.
const RESERVED_LABELS = ['alertname', 'job', 'severity', 'namespace', 'cronjob', PUSHGATEWAY_LABEL, THRESHOLD_LABEL, ...Object.values(SEVERITY_LABELS)];
// Bytes of rule groups (as compact JSON) per PrometheusRule. Far below etcd's request limit (1.5 MiB),
// and with the object's metadata still below the 256 KiB (262,144 bytes) that client-side
// `kubectl apply` can keep in its last-applied-configuration annotation.
const GROUP_BYTES_PER_RULE = 200_000;
// Prometheus's default `--query.lookback-delta`: how far back an instant selector finds a sample.
const LOOKBACK_DELTA = Duration.minutes(5);

/**
 * The one home of the batch jobs of a Pushgateway: each job is declared here once, with its name,
 * thresholds, labels and severities (defaults resolved, deadline computed once), and published to
 * Prometheus as data: recording rules that give every job a few constant series
 * (`batch_job:info`, `batch_job:threshold_seconds`) and the time its declaration was first loaded
 * (`batch_job:declared_timestamp_seconds`). The alerts and the dashboard join on those series, so
 * they stay the same whatever the jobs are, and jobs declared in other apps against the same
 * Pushgateway are watched by the same alerts and shown on the same dashboard.
 *
 * The rule groups fill PrometheusRules of at most about 200 kB each (`<name>-jobs`, then
 * `<name>-jobs-2`, ...); the split depends only on the set of jobs, not on the order they were
 * declared in.
 */
export class JobRegistry extends Construct {
  /** The Pushgateway the jobs push to. */
  public readonly pushgateway: IPushgateway;
  /** The name of the first PrometheusRule, `<name>-jobs`; the next ones append `-2`, `-3`, ... */
  public readonly ruleName: string;
  private readonly prefix: string;
  private readonly namespace: string;
  private readonly gateway: string;
  private readonly ruleLabels: Record<string, string>;
  private readonly interval: string;
  private readonly _jobs = new Map<string, RegisteredJob>();
  private readonly _cronJobs = new Map<string, RegisteredCronJob>();
  // The groups of each PrometheusRule, in the order of `chunks`; `pack` refills them.
  private readonly chunkGroups: PrometheusRuleSpecGroups[][] = [];
  private readonly chunks: PrometheusRule[] = [];
  // The groups with their sizes, kept sorted by name.
  private readonly sorted: Array<{ group: PrometheusRuleSpecGroups; bytes: number }> = [];

  constructor(scope: Construct, id: string, props: JobRegistryProps) {
    super(scope, id);
    checkRequired(this, 'JobRegistryProps', props, { pushgateway: REQUIRED_PUSHGATEWAY });
    this.pushgateway = props.pushgateway;
    // A Pushgateway of this app admits, and under write scope authorizes, the jobs declared here.
    if (this.pushgateway instanceof Pushgateway) this.pushgateway._addRegistry(this);
    const name = props.name ?? this.pushgateway.name;
    // Room for the suffix of the further PrometheusRules, `-jobs-<n>`.
    checkDnsLabel(this, 'name', name, 253 - '-jobs-9999'.length);
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? this.pushgateway.namespace;
    checkDnsLabel(this, 'namespace', this.namespace);
    this.ruleName = `${name}-jobs`;
    this.prefix = `${this.namespace}.${name}`;
    this.gateway = pushgatewayId(this.pushgateway);
    this.ruleLabels = { ...this.pushgateway.labels, ...(props.flavour ?? this.pushgateway.flavour).ruleLabels() };
    const interval = props.evaluationInterval ?? Duration.minutes(2);
    checkPositive(this, 'evaluationInterval', interval);
    if (interval.toMilliseconds() > LOOKBACK_DELTA.toMilliseconds() / 2 || interval.toMilliseconds() % 1000 !== 0) {
      throw invalidInput(this, 'evaluationInterval', interval.toHumanString(),
        'use whole seconds, at most 2 minutes 30 seconds (half of Prometheus\'s 5-minute lookback delta), so that the alerts always see the declarations');
    }
    this.interval = toPrometheusDuration(interval);
  }

  /** The jobs declared so far, sorted by name. */
  public get jobs(): RegisteredJob[] {
    return [...this._jobs.values()].sort((a, b) => compare(a.name, b.name));
  }

  /** The CronJobs declared so far, sorted by namespace and name. */
  public get cronJobs(): RegisteredCronJob[] {
    return [...this._cronJobs.values()].sort((a, b) => compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  }

  /** The PrometheusRules that publish the declarations. */
  public get rules(): PrometheusRule[] {
    return [...this.chunks];
  }

  /**
   * Declares a job: its alerts, dashboard rows and cleanup all follow from this one call.
   * @returns the job as registered, defaults resolved
   */
  public addJob(job: BatchJob): RegisteredJob {
    this.checkJob(job);
    const grace = job.grace ?? defaultGrace(job.interval);
    const registered: RegisteredJob = {
      name: job.name,
      namespace: job.namespace ?? this.pushgateway.namespace,
      interval: job.interval,
      grace,
      deadline: plus(job.interval, grace),
      maxDuration: job.maxDuration,
      labels: { ...job.labels },
      severities: {
        failure: job.severities?.failure ?? AlertSeverity.CRITICAL,
        durationHigh: job.severities?.durationHigh ?? AlertSeverity.WARNING,
        notRunning: job.severities?.notRunning ?? AlertSeverity.CRITICAL,
      },
      cronJob: job.cronJob,
    };
    this.checkInhibition(registered);
    if (registered.cronJob !== undefined) {
      this.addCronJob({ name: registered.cronJob, namespace: registered.namespace, interval: registered.interval, grace, labels: registered.labels });
    }
    this._jobs.set(job.name, registered);
    this.insert(this.jobGroup(registered));
    return registered;
  }

  /**
   * Declares a Kubernetes CronJob for `BatchCronJobNoRecentSuccess`, the kube-state-metrics view
   * that catches a job that never even starts (bad image, quota, a suspended controller) and so
   * never pushes.
   * @returns the CronJob as registered
   */
  public addCronJob(cronJob: BatchCronJob): RegisteredCronJob {
    checkRequired(this, 'BatchCronJob (addCronJob())', cronJob, { name: REQUIRED_STRING, namespace: REQUIRED_STRING, interval: REQUIRED_DURATION });
    checkDnsLabel(this, 'cronJob.name', cronJob.name, 52);
    checkDnsLabel(this, 'cronJob.namespace', cronJob.namespace);
    checkPositive(this, `interval of CronJob "${cronJob.name}"`, cronJob.interval);
    if (cronJob.grace) checkPositive(this, `grace of CronJob "${cronJob.name}"`, cronJob.grace);
    this.checkStaticLabels(`CronJob "${cronJob.name}"`, cronJob.labels ?? {});
    const key = `${cronJob.namespace}/${cronJob.name}`;
    if (this._cronJobs.has(key)) {
      throw invalidInput(this, 'cronJob', key, 'each CronJob is added once: remove the second addCronJob() call');
    }
    const grace = cronJob.grace ?? defaultGrace(cronJob.interval);
    const registered: RegisteredCronJob = {
      name: cronJob.name,
      namespace: cronJob.namespace,
      interval: cronJob.interval,
      grace,
      deadline: plus(cronJob.interval, grace),
      severity: cronJob.severity ?? AlertSeverity.WARNING,
      labels: { ...cronJob.labels },
    };
    const other = [...this._cronJobs.values()].find((c) => c.namespace === registered.namespace && c.severity !== registered.severity);
    if (other) {
      throw inhibitionError(this, `severity of CronJob "${cronJob.name}"`, registered.severity, 'CronJob', other.name, registered.namespace,
        'BatchCronJobNoRecentSuccess', other.severity);
    }
    this._cronJobs.set(key, registered);
    this.insert({
      name: `${this.prefix}.cronjob.${cronJob.namespace}.${cronJob.name}`,
      interval: this.interval,
      rules: [record(CRONJOB_DEADLINE, seconds(registered.deadline), {
        ...registered.labels,
        namespace: registered.namespace,
        cronjob: registered.name,
        [PUSHGATEWAY_LABEL]: this.gateway,
        severity: registered.severity,
      })],
    });
    return registered;
  }

  /**
   * The declaration of one job: the labels of its alerts, its thresholds, and when Prometheus first
   * loaded it. The last is a self-referencing record: it keeps its first value for as long as the
   * rule keeps being evaluated (and over gaps shorter than RECORD_MEMORY, such as a restart), and
   * starts afresh when the job is declared anew, or its CronJob is created later (re-created).
   */
  private jobGroup(job: RegisteredJob): PrometheusRuleSpecGroups {
    const own = { job: job.name, [PUSHGATEWAY_LABEL]: this.gateway };
    // Constants: the cheapest rules to evaluate, one series each.
    const threshold = (name: Threshold, value: Duration) => record(JOB_THRESHOLD, seconds(value), { ...own, [THRESHOLD_LABEL]: name });
    return {
      name: `${this.prefix}.job.${job.name}`,
      interval: this.interval,
      rules: [
        record(JOB_INFO, '1', {
          ...job.labels,
          ...own,
          namespace: job.namespace,
          [SEVERITY_LABELS.failure]: job.severities.failure!,
          [SEVERITY_LABELS.durationHigh]: job.severities.durationHigh!,
          [SEVERITY_LABELS.notRunning]: job.severities.notRunning!,
        }),
        threshold(Threshold.INTERVAL, job.interval),
        threshold(Threshold.DEADLINE, job.deadline),
        threshold(Threshold.MAX_DURATION, job.maxDuration),
        record(JOB_DECLARED, this.declaredExpr(job), own),
      ],
    };
  }

  private declaredExpr(job: RegisteredJob): string {
    const firstLoad = `${lastOverTime(jobSeries(JOB_DECLARED, this.gateway, [matcher('job', job.name)]), RECORD_MEMORY)}\nor on () vector(time())`;
    if (job.cronJob === undefined) return firstLoad;
    // The later of the two; the label keeps the CronJob's series apart from the first-load one in the union.
    const created = `max(${selector('kube_cronjob_created', [matcher('namespace', job.namespace), matcher('cronjob', job.cronJob)])})`;
    return `max(\n  ${firstLoad.replace('\n', '\n  ')}\n  or\n  label_replace(${created}, "source", "cronjob", "", "")\n)`;
  }

  private checkJob(job: BatchJob): void {
    checkRequired(this, 'BatchJob (addJob())', job, { name: REQUIRED_STRING, interval: REQUIRED_DURATION, maxDuration: REQUIRED_DURATION });
    // Any name is safe in PromQL (it is quoted). It is also a rule label, where Prometheus would
    // expand "{{" as a template; control characters would only make unreadable group names.
    if (!job.name || job.name.includes('{{') || /[\u0000-\u001f\u007f]/.test(job.name)) {
      throw invalidInput(this, 'job name', job.name, 'use the non-empty `job` label the job pushes with, without "{{" or control characters (e.g. "daily-backup")');
    }
    if (this._jobs.has(job.name)) {
      throw invalidInput(this, 'job name', job.name,
        'each job is declared once (a MonitoredCronJob declares its own): remove the second addJob() call or MonitoredCronJob, or give the job another name');
    }
    if (job.namespace !== undefined) checkDnsLabel(this, `namespace of job "${job.name}"`, job.namespace);
    if (job.cronJob !== undefined) checkDnsLabel(this, `cronJob of job "${job.name}"`, job.cronJob, 52);
    checkJobThresholds(this, job);
    this.checkStaticLabels(`job "${job.name}"`, job.labels ?? {});
  }

  /**
   * kube-prometheus's Alertmanager (both flavours) inhibits warning and info alerts while a critical
   * alert with the same `namespace` and `alertname` fires: two jobs of one namespace with different
   * severities for one alert would let one job's alert silence the other's.
   */
  private checkInhibition(job: RegisteredJob): void {
    const alerts: Array<[keyof BatchJobAlertSeverities, string]> = [
      ['failure', 'BatchJobFailure'], ['durationHigh', 'BatchJobDurationHigh'], ['notRunning', 'BatchJobNotRunning'],
    ];
    for (const other of this._jobs.values()) {
      if (other.namespace !== job.namespace) continue;
      for (const [key, alertname] of alerts) {
        if (other.severities[key] !== job.severities[key]) {
          throw inhibitionError(this, `severities.${key} of job "${job.name}"`, job.severities[key]!, 'job', other.name, job.namespace, alertname, other.severities[key]!);
        }
      }
    }
  }

  private checkStaticLabels(owner: string, labels: Record<string, string>): void {
    for (const [key, value] of Object.entries(labels)) {
      if (!isPromLabelName(key)) {
        throw invalidInput(this, `label name of ${owner}`, key, 'use letters, digits and "_", not starting with a digit or "__" (e.g. "team")');
      }
      if (RESERVED_LABELS.includes(key)) {
        throw invalidInput(this, `label name of ${owner}`, key,
          key === 'severity' ? 'set the severity with `severities` instead'
            : key === 'namespace' ? 'set the namespace with the job\'s `namespace` instead'
              : `"${key}" is set by the rules themselves: use another label name`);
      }
      // Prometheus expands templates in alert labels: `{{` would run as one.
      if (!value || value.includes('{{') || /[\u0000-\u001f\u007f]/.test(value)) {
        throw invalidInput(this, `labels["${key}"] of ${owner}`, value, 'use a non-empty value without "{{" or control characters (e.g. "data-platform")');
      }
    }
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
    this.sorted.splice(lo, 0, { group, bytes: Buffer.byteLength(JSON.stringify(group)) });
    this.pack();
  }

  /**
   * Distributes the groups over the PrometheusRules, sorted by name, each filled up to the byte
   * budget (next fit), so that the result depends only on the set of groups. Adding a group never
   * lowers the number of PrometheusRules next fit needs, so the ones already created stay non-empty.
   */
  private pack(): void {
    const ends: number[] = [];
    let bytes = 0;
    this.sorted.forEach((entry, i) => {
      if (bytes > 0 && bytes + entry.bytes > GROUP_BYTES_PER_RULE) {
        ends.push(i);
        bytes = 0;
      }
      bytes += entry.bytes;
    });
    ends.push(this.sorted.length);
    let from = 0;
    ends.forEach((to, i) => {
      if (i === this.chunks.length) this.addChunk();
      this.chunkGroups[i].splice(0, Infinity, ...this.sorted.slice(from, to).map((entry) => entry.group));
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
        namespace: this.namespace,
        labels: { ...this.ruleLabels },
      },
      spec: { groups },
    }));
  }
}

function record(name: string, expr: string, labels: Record<string, string>): PrometheusRuleSpecGroupsRules {
  return {
    record: name,
    expr: PrometheusRuleSpecGroupsRulesExpr.fromString(expr),
    labels: Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]])),
  };
}

function inhibitionError(scope: Construct, field: string, value: string, kind: string, other: string, namespace: string, alertname: string, otherSeverity: string): Error {
  return invalidInput(scope, field, value,
    `${kind} "${other}" in namespace "${namespace}" has ${alertname} at ${otherSeverity}, and kube-prometheus's Alertmanager inhibits `
    + 'warning and info alerts while a critical alert with the same namespace and alertname fires, so one alert would silence the other: '
    + 'give both the same severity, or declare them in different namespaces (the job\'s `namespace`)');
}

function plus(a: Duration, b: Duration): Duration {
  return Duration.millis(a.toMilliseconds() + b.toMilliseconds());
}

function seconds(duration: Duration): string {
  return String(duration.toSeconds({ integral: false }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
