import { Chart, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  PrometheusRule,
  PrometheusRuleSpecGroups,
  PrometheusRuleSpecGroupsRules,
  PrometheusRuleSpecGroupsRulesExpr,
} from '../imports/monitoring.coreos.com';
import { AlertSeverity, BatchCronJob, BatchJob, BatchJobAlertSeverities, defaultGrace } from './batch-job';
import {
  CRONJOB_DEADLINE, CRONJOB_LABEL, JOB_DECLARED, JOB_INFO, JOB_THRESHOLD, jobSeries, PUSHGATEWAY_LABEL, pushgatewayId, RECORD_MEMORY,
  REGISTRY_LABEL, SEVERITY_LABELS, Threshold, THRESHOLD_LABEL,
} from './job-series';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toPrometheusDuration } from './prometheus-duration';
import { DEFAULT_PART_OF, objectLabels } from './object-labels';
import { isPromLabelName, lastOverTime, matcher, selector, withLabel } from './promql';
import { Pushgateway } from './pushgateway';
import { IPushgateway } from './pushgateway-interface';
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
const RESERVED_LABELS = [
  'alertname', 'job', 'severity', 'namespace', CRONJOB_LABEL, PUSHGATEWAY_LABEL, REGISTRY_LABEL, THRESHOLD_LABEL, ...Object.values(SEVERITY_LABELS),
];
// Bytes of PromQL per PrometheusRule, which holds one rule group. Far below etcd's request limit
// (1.5 MiB), and, as YAML (quoted, indented, with the metadata: about 1.4 times as much), still
// below the 256 KiB (262,144 bytes) that client-side `kubectl apply` can keep in its
// last-applied-configuration annotation.
const GROUP_BYTES = 150_000;
// Declarations (jobs and CronJobs) per rule: each kind of series is one rule over many jobs, a
// union of constants; two rules of each kind at most per group keep a group far below the 20 rules
// of Mimir's default `-ruler.max-rules-per-rule-group` (5 kinds x 2 + the declaration times).
const DECLARATIONS_PER_RULE = 250;
const DECLARATIONS_PER_GROUP = 2 * DECLARATIONS_PER_RULE;
// Prometheus's default `--query.lookback-delta`: how far back an instant selector finds a sample.
const LOOKBACK_DELTA = Duration.minutes(5);

/** The kinds of constant series the registry publishes: one rule (per 250 declarations) each. */
enum Kind {
  INFO = 'info',
  INTERVAL = 'interval',
  DEADLINE = 'deadline',
  MAX_DURATION = 'max_duration',
  CRONJOB = 'cronjob',
}

/** A job or CronJob as it is published: its series of each kind as PromQL constants. */
interface Declaration {
  /** Sorts the declarations, so that the result depends only on the set of them. */
  readonly key: string;
  readonly series: Partial<Record<Kind, string>>;
  readonly bytes: number;
}

/**
 * The one home of the batch jobs of a Pushgateway: each job is declared here once, with its name,
 * thresholds, labels and severities (defaults resolved, deadline computed once), and published to
 * Prometheus as data: recording rules that give every job a few constant series
 * (`batch_job:info`, `batch_job:threshold_seconds`) and the time its declaration was first loaded
 * (`batch_job:declared_timestamp_seconds`). The alerts and the dashboard join on those series, so
 * they stay the same whatever the jobs are, and jobs declared in other apps against the same
 * Pushgateway are watched by the same alerts and shown on the same dashboard.
 *
 * The number of rule groups and rules stays small for any number of jobs (for the per-tenant limits
 * of rulers such as Grafana Mimir's): each kind of series is one rule over up to 250 jobs, a
 * union of constants, and each PrometheusRule (`<name>-jobs`, then `<name>-jobs-2`, ...) holds one
 * group of up to 500 jobs and about 150 kB of PromQL. The split depends only on the set of jobs, not on the
 * order they were declared in; the rules are rendered once, at synthesis.
 */
export class JobRegistry extends Construct {
  /** The Pushgateway the jobs push to. */
  public readonly pushgateway: IPushgateway;
  /** The name of the first PrometheusRule, `<name>-jobs`; the next ones append `-2`, `-3`, ... */
  public readonly ruleName: string;
  private readonly prefix: string;
  private readonly namespace: string;
  private readonly gateway: string;
  private readonly registryId: string;
  private readonly ruleLabels: Record<string, string>;
  private readonly interval: string;
  private readonly _jobs = new Map<string, RegisteredJob>();
  private readonly _cronJobs = new Map<string, RegisteredCronJob>();
  // Kept sorted by key (a binary search per declaration, not a sort: a thousand jobs stay fast).
  private readonly declarations: Declaration[] = [];
  private readonly objects: PrometheusRule[] = [];
  // The groups as rendered at synthesis; dropped when a declaration is added.
  private rendered?: PrometheusRuleSpecGroups[];

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
    this.registryId = `${this.namespace}/${this.ruleName}`;
    // The library's own labels: the registry is no part of the Pushgateway (which may live in another app).
    this.ruleLabels = {
      ...objectLabels({ name: 'batch-monitoring', component: 'job-registry', partOf: this.pushgateway.labels['app.kubernetes.io/part-of'] ?? DEFAULT_PART_OF }),
      ...(props.flavour ?? this.pushgateway.flavour).ruleLabels(),
    };
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
    return [...this.objects];
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
      // A team's app declares its jobs where the team works: its chart's namespace.
      namespace: job.namespace ?? Chart.of(this).namespace ?? this.pushgateway.namespace,
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
    const withJob = (value: Duration) => constant(seconds(value), { job: job.name });
    this.declare(`job/${job.name}`, {
      [Kind.INFO]: constant('1', {
        ...registered.labels,
        job: registered.name,
        namespace: registered.namespace,
        [SEVERITY_LABELS.failure]: registered.severities.failure!,
        [SEVERITY_LABELS.durationHigh]: registered.severities.durationHigh!,
        [SEVERITY_LABELS.notRunning]: registered.severities.notRunning!,
        ...(registered.cronJob !== undefined ? { [CRONJOB_LABEL]: registered.cronJob } : {}),
      }),
      [Kind.INTERVAL]: withJob(registered.interval),
      [Kind.DEADLINE]: withJob(registered.deadline),
      [Kind.MAX_DURATION]: withJob(registered.maxDuration),
    });
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
    this.declare(`cronjob/${key}`, {
      [Kind.CRONJOB]: constant(seconds(registered.deadline), {
        ...registered.labels,
        namespace: registered.namespace,
        [CRONJOB_LABEL]: registered.name,
        severity: registered.severity,
      }),
    });
    return registered;
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

  /**
   * Keeps a declaration where it sorts and creates the PrometheusRules its groups will need. Only
   * the sizes are packed here; the groups themselves are rendered once, at synthesis, so no array
   * that an object already holds is ever changed.
   */
  private declare(key: string, series: Partial<Record<Kind, string>>): void {
    const bytes = Object.values(series).reduce((sum, expr) => sum + Buffer.byteLength(expr!) + 8, 0);
    let lo = 0;
    let hi = this.declarations.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.declarations[mid].key < key) lo = mid + 1;
      else hi = mid;
    }
    this.declarations.splice(lo, 0, { key, series, bytes });
    this.rendered = undefined;
    // Next fit never needs fewer groups after an insertion, so the objects created stay non-empty.
    for (let n = this.objects.length, needed = pack(this.declarations).length; n < needed; n++) this.addObject(n);
  }

  private addObject(index: number): void {
    const n = index + 1;
    this.objects.push(new PrometheusRule(this, n === 1 ? 'Resource' : `Resource${n}`, {
      metadata: {
        name: n === 1 ? this.ruleName : `${this.ruleName}-${n}`,
        namespace: this.namespace,
        labels: { ...this.ruleLabels },
      },
      spec: { groups: Lazy.any({ produce: () => [this.groups()[index]] }) },
    }));
  }

  /** The rule groups, one per PrometheusRule, rendered at the first synthesis after a change. */
  private groups(): PrometheusRuleSpecGroups[] {
    if (!this.rendered) {
      const packed = pack(this.declarations);
      this.rendered = packed.map((declarations, i) => ({
        name: i === 0 ? `${this.prefix}.declarations` : `${this.prefix}.declarations-${i + 1}`,
        interval: this.interval,
        rules: [
          ...this.kindRules(declarations),
          // Reads the info records of every group: one rule for the whole registry.
          ...(i === 0 && this._jobs.size > 0 ? [this.declaredRule()] : []),
        ],
      }));
    }
    return this.rendered;
  }

  private kindRules(declarations: Declaration[]): PrometheusRuleSpecGroupsRules[] {
    const own = { [PUSHGATEWAY_LABEL]: this.gateway };
    const kinds: Array<[Kind, string, Record<string, string>]> = [
      [Kind.INFO, JOB_INFO, { ...own, [REGISTRY_LABEL]: this.registryId }],
      [Kind.INTERVAL, JOB_THRESHOLD, { ...own, [THRESHOLD_LABEL]: Threshold.INTERVAL }],
      [Kind.DEADLINE, JOB_THRESHOLD, { ...own, [THRESHOLD_LABEL]: Threshold.DEADLINE }],
      [Kind.MAX_DURATION, JOB_THRESHOLD, { ...own, [THRESHOLD_LABEL]: Threshold.MAX_DURATION }],
      [Kind.CRONJOB, CRONJOB_DEADLINE, own],
    ];
    return kinds.flatMap(([kind, name, labels]) => {
      const series = declarations.flatMap((d) => (d.series[kind] === undefined ? [] : [d.series[kind]!]));
      return chunks(series, DECLARATIONS_PER_RULE).map((part) => record(name, union(part), labels));
    });
  }

  /**
   * When Prometheus first loaded each job's declaration: a self-referencing record, over every job of
   * this registry. It keeps its first value for as long as it keeps being evaluated (and over gaps
   * shorter than RECORD_MEMORY, such as a restart), and starts afresh when the job is declared anew,
   * or its CronJob is created later (re-created). Every read aggregates to one series per job, so
   * labels a ruler adds to what it reads back (Thanos's external labels) are not copied.
   */
  private declaredRule(): PrometheusRuleSpecGroupsRules {
    const info = (extra: string[] = []) => jobSeries(JOB_INFO, this.gateway, [matcher(REGISTRY_LABEL, this.registryId), ...extra]);
    const remembered = lastOverTime(jobSeries(JOB_DECLARED, this.gateway), RECORD_MEMORY);
    const created = selector('kube_cronjob_created');
    return record(JOB_DECLARED, [
      'max by (job) (',
      `  max by (job) (${remembered}) and on (job) ${info()}`,
      '  or on (job)',
      `  max by (job) (${info()}) * 0 + time()`,
      // The later of the two; the label keeps the CronJob's series apart from the others in the union.
      '  or',
      '  label_replace(',
      `    max by (job) (${info([matcher(CRONJOB_LABEL, '', '!=')])} * on (namespace, cronjob) group_left () max by (namespace, cronjob) (${created})),`,
      '    "source", "cronjob", "", ""',
      '  )',
      ')',
    ].join('\n'), { [PUSHGATEWAY_LABEL]: this.gateway });
  }
}

/** Next fit of the declarations, in their order, into groups of at most GROUP_BYTES and DECLARATIONS_PER_GROUP. */
function pack(declarations: Declaration[]): Declaration[][] {
  const groups: Declaration[][] = [];
  let bytes = 0;
  for (const d of declarations) {
    const current = groups[groups.length - 1];
    if (!current || bytes + d.bytes > GROUP_BYTES || current.length === DECLARATIONS_PER_GROUP) {
      groups.push([d]);
      bytes = d.bytes;
    } else {
      current.push(d);
      bytes += d.bytes;
    }
  }
  return groups;
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/**
 * A constant series with these labels, e.g. `label_replace(vector(1), "job", "daily-backup", "", "")`:
 * no storage is read.
 */
function constant(value: string, labels: Record<string, string>): string {
  return Object.keys(labels).sort().reduce((expr, key) => withLabel(expr, key, labels[key]), `vector(${value})`);
}

/** `a or b or ...` as a balanced tree: Prometheus's `or` hashes its left side, so a chain would cost the square of its length. */
function union(parts: string[]): string {
  if (parts.length === 1) return parts[0];
  const mid = Math.ceil(parts.length / 2);
  return `(\n${union(parts.slice(0, mid))}\nor\n${union(parts.slice(mid))}\n)`;
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
