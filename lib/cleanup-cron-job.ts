import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cron, Duration, Lazy, Size } from 'cdk8s';
import { ConcurrencyPolicy, ConfigMap, ContainerResources, Cpu, CronJob, ImagePullPolicy, Volume } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { DROP_ALL, useRuntimeDefaultSeccomp } from './cron-job-pod';
import { cronScheduleGap } from './cron-schedule';
import { CLEANUP_FLAGS, CLEANUP_JOB_NAME } from './names';
import { packageFilePath } from './package-file';
import { DEFAULT_PART_OF, imageVersion, ObjectIdentity, objectLabels } from './object-labels';
import { RESTRICTED_CONTAINER } from './pod-security';
import { toPrometheusDuration } from './prometheus-duration';
import { JobRegistry } from './job-registry';
import { Pushgateway } from './pushgateway';
import { PushgatewayBasicAuth, PushgatewayCaCertificate } from './pushgateway-web-config';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkLabelValue, checkPositive, checkRequired, checkStartingDeadline, invalidInput, REQUIRED_PUSHGATEWAY } from './validation';

/** Options of `CleanupCronJob`, everything but the Pushgateway (what `BatchMonitoringChart` takes). */
export interface CleanupCronJobOptions {
  /**
   * Name of the CronJob and its ConfigMap, and the `app.kubernetes.io/name` label.
   * @default 'pushgateway-cleanup'
   */
  readonly name?: string;
  /**
   * Namespace of the CronJob.
   * @default - the Pushgateway's namespace
   */
  readonly namespace?: string;
  /**
   * The `app.kubernetes.io/part-of` label.
   * @default 'batch-monitoring'
   */
  readonly partOf?: string;
  /**
   * When the cleanup runs.
   * @default Cron.daily() ('0 0 * * *')
   */
  readonly schedule?: Cron;
  /**
   * Time zone of `schedule` (an IANA name such as `Europe/Berlin`).
   * @default - the kube-controller-manager's time zone, normally UTC
   */
  readonly timeZone?: string;
  /**
   * The longest time between two runs, which the `pushgateway-cleanup` job's alerts expect; at
   * least the longest gap between two runs of `schedule`.
   * @default - the longest gap between two runs of `schedule` in `timeZone`, as Kubernetes runs it
   */
  readonly expectedInterval?: Duration;
  /**
   * Groups of undeclared jobs whose latest push is older than this are deleted. The jobs declared
   * to the `registry` are not judged by age: their newest group (and their newest group holding a
   * result), per `batch_container`, is never deleted, so a weekly or monthly job needs no tuning here.
   * @default Duration.days(7)
   */
  readonly maxAge?: Duration;
  /**
   * How old a group of a declared job must be to be deleted once a newer group of the same job
   * (and `batch_container`) supersedes it, e.g. the per-run `job_id` groups of earlier runs.
   * @default Duration.hours(1)
   */
  readonly supersededAfter?: Duration;
  /**
   * Jobs (values of the `job` label) whose groups are never deleted.
   * @default - none
   */
  readonly excludeJobs?: string[];
  /**
   * Only groups of these jobs are considered.
   * @default - every job
   */
  readonly jobs?: string[];
  /**
   * Report what would be deleted without deleting anything.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Push each run's `batch_job_*` metrics as job `pushgateway-cleanup`, so the batch-job alerts
   * watch the cleanup too.
   * @default true
   */
  readonly pushMetrics?: boolean;
  /**
   * The Pushgateway base URL the cleanup calls, e.g. an https front of it.
   * @default - the Pushgateway's in-cluster URL
   */
  readonly url?: string;
  /**
   * Basic-auth credentials, from a Secret.
   * @default - the client Secret of the Pushgateway's web config, if any
   */
  readonly basicAuth?: PushgatewayBasicAuth;
  /**
   * CA certificate(s) to verify an https Pushgateway with.
   * @default - the CA of the Pushgateway's web config, if any, else the image's default trust store
   */
  readonly caCertificate?: PushgatewayCaCertificate;
  /**
   * DELETE requests in flight at once.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * How long each HTTP request may go without receiving anything (a large store streams for longer).
   * @default Duration.seconds(10)
   */
  readonly requestTimeout?: Duration;
  /**
   * How long a run may take before Kubernetes stops it (`activeDeadlineSeconds`).
   * @default Duration.minutes(10)
   */
  readonly activeDeadline?: Duration;
  /**
   * Retries of a failed run (`backoffLimit`).
   * @default 2
   */
  readonly backoffLimit?: number;
  /**
   * How late a run may start and still run (`startingDeadlineSeconds`); above cdk8s-plus's 10s so
   * that a busy controller does not skip a day.
   * @default Duration.minutes(30)
   */
  readonly startingDeadline?: Duration;
  /**
   * Finished runs kept for inspection.
   * @default 3
   */
  readonly successfulJobsRetained?: number;
  /**
   * Failed runs kept for inspection.
   * @default 3
   */
  readonly failedJobsRetained?: number;
  /**
   * An official Node.js image (Node 20 or later), pinned by tag or digest.
   * @default 'node:24.13.0-alpine'
   */
  readonly image?: string;
  /**
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * CPU and memory of the container.
   * @default - requests 10m / 64Mi, limits 500m / 192Mi
   */
  readonly resources?: ContainerResources;
}

/** Props for `CleanupCronJob`. */
export interface CleanupCronJobProps extends CleanupCronJobOptions {
  /** The Pushgateway to clean up. */
  readonly pushgateway: Pushgateway;
  /**
   * The registry of the jobs pushing to the Pushgateway: the cleanup declares its own job there
   * (with `pushMetrics`), and never deletes the newest group of a job declared there.
   * @default - none: the cleanup's runs are not watched, and every group goes by age
   */
  readonly registry?: JobRegistry;
}

const PROGRAM = 'pushgateway-cleanup.js';
const PROGRAM_DIR = '/opt/pushgateway-cleanup';
// Beside the program in its ConfigMap: the names of the registry's jobs, one a line.
const DECLARED_JOBS = 'declared-jobs';
// The `node` user of the official Node.js images; numeric, so runAsNonRoot can verify it.
const NODE_USER = 1000;
const DEFAULT_IMAGE = 'node:24.13.0-alpine';

/**
 * A CronJob that deletes stale Pushgateway groups, with the `pushgateway-cleanup` program of this
 * package (its entry point and modules) mounted from a ConfigMap: groups of undeclared jobs nobody
 * has pushed to for longer than `maxAge`, and groups of declared jobs superseded by a newer one
 * (never a declared job's newest). The Pushgateway never expires groups by itself (upstream refuses
 * a TTL), so without it groups of finished, renamed or per-run jobs pile up forever.
 */
export class CleanupCronJob extends Construct {
  /** The `job` label the program pushes its own run metrics with. */
  public static readonly METRICS_JOB = CLEANUP_JOB_NAME;

  /** The program's entry point, as shipped in this package; its modules are in the same folder. */
  public static programPath(): string {
    return packageFilePath(`lib/cleanup/${PROGRAM}`);
  }

  /** Name of the CronJob and its ConfigMap. */
  public readonly name: string;
  /** The schedule. */
  public readonly schedule: Cron;
  /** The longest expected time between two runs. */
  public readonly interval: Duration;
  /** How long a run may take. */
  public readonly activeDeadline: Duration;
  /** Age after which a group of an undeclared job is deleted. */
  public readonly maxAge: Duration;
  /** Age after which a superseded group of a declared job is deleted. */
  public readonly supersededAfter: Duration;
  /** Jobs never deleted. */
  public readonly excludeJobs: string[];
  /** Jobs considered (empty: all). */
  public readonly jobs: string[];
  /** Whether each run pushes its own `batch_job_*` metrics as job `METRICS_JOB`. */
  public readonly pushMetrics: boolean;
  /** The container arguments of the program. */
  public readonly args: string[];
  /** The CronJob. */
  public readonly cronJob: CronJob;
  /** The ConfigMap holding the program. */
  public readonly configMap: ConfigMap;

  constructor(scope: Construct, id: string, props: CleanupCronJobProps) {
    super(scope, id);
    checkRequired(this, 'CleanupCronJobProps', props, { pushgateway: REQUIRED_PUSHGATEWAY });
    refuseDuplicateObjects(this);
    const pushgateway = props.pushgateway;
    this.name = props.name ?? 'pushgateway-cleanup';
    checkDnsLabel(this, 'name', this.name, 52);
    const namespace = props.namespace ?? pushgateway.namespace;
    checkDnsLabel(this, 'namespace', namespace);
    this.schedule = props.schedule ?? Cron.daily();
    this.maxAge = props.maxAge ?? Duration.days(7);
    checkPositive(this, 'maxAge', this.maxAge);
    if (this.maxAge.toMilliseconds() % 1000 !== 0) {
      throw invalidInput(this, 'maxAge', this.maxAge.toHumanString(), 'use whole seconds, e.g. Duration.days(7)');
    }
    this.supersededAfter = props.supersededAfter ?? Duration.hours(1);
    checkPositive(this, 'supersededAfter', this.supersededAfter);
    if (this.supersededAfter.toMilliseconds() % 1000 !== 0) {
      throw invalidInput(this, 'supersededAfter', this.supersededAfter.toHumanString(), 'use whole seconds, e.g. Duration.hours(1)');
    }
    const period = cronScheduleGap(this, 'schedule', this.schedule, props.timeZone);
    const interval = props.expectedInterval ?? period.duration;
    checkPositive(this, 'expectedInterval', interval);
    if (interval.toMilliseconds() < period.duration.toMilliseconds()) {
      throw invalidInput(this, 'expectedInterval', interval.toHumanString(),
        `the schedule "${this.schedule.expressionString}"${props.timeZone ? ` in ${props.timeZone}` : ''} leaves up to ${period.duration.toHumanString()} between runs (${period.from} to ${period.to}), so its alerts would fire between runs: raise expectedInterval to at least that, or leave it out`);
    }
    this.interval = interval;
    this.activeDeadline = props.activeDeadline ?? Duration.minutes(10);
    checkPositive(this, 'activeDeadline', this.activeDeadline);
    const startingDeadline = props.startingDeadline ?? Duration.minutes(30);
    checkStartingDeadline(this, startingDeadline);
    for (const [field, value] of Object.entries({
      backoffLimit: props.backoffLimit, successfulJobsRetained: props.successfulJobsRetained, failedJobsRetained: props.failedJobsRetained,
    })) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 100)) {
        throw invalidInput(this, field, value, 'use a whole number from 0 to 100');
      }
    }
    const concurrency = props.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw invalidInput(this, 'concurrency', concurrency, 'use a whole number from 1 to 64 (the Pushgateway applies writes one at a time anyway)');
    }
    const requestTimeout = props.requestTimeout ?? Duration.seconds(10);
    checkPositive(this, 'requestTimeout', requestTimeout);
    this.excludeJobs = [...(props.excludeJobs ?? [])];
    this.jobs = [...(props.jobs ?? [])];
    for (const [field, list] of Object.entries({ excludeJobs: this.excludeJobs, jobs: this.jobs })) {
      for (const job of list) {
        if (job.trim() === '') throw invalidInput(this, field, job, 'give a job name (the value of the job label)');
      }
    }
    const both = this.jobs.find((job) => this.excludeJobs.includes(job));
    if (both !== undefined) throw invalidInput(this, 'jobs', both, 'a job cannot be both in jobs and in excludeJobs: keep one');
    this.pushMetrics = props.pushMetrics ?? true;
    if (props.registry && this.pushMetrics) this.declareTo(props.registry, namespace);
    const url = props.url ?? pushgateway.url;
    // A Pushgateway with a web config tells its clients which Secrets to authenticate and verify with.
    const basicAuth = props.basicAuth ?? pushgateway.clientAuth.basicAuth;
    const caCertificate = props.caCertificate ?? pushgateway.clientAuth.ca;
    if (!/^https?:\/\/[^/\s@]+(\/\S*)?$/.test(url)) {
      throw invalidInput(this, 'url', url, 'use an http:// or https:// base URL without credentials, e.g. "https://pushgateway.example.com"');
    }
    if (caCertificate && !url.startsWith('https://')) {
      throw invalidInput(this, 'caCertificate', `${caCertificate.kind}/${caCertificate.name}`,
        `a CA certificate is only used over https, but the URL is ${url}: set url to the https address, or drop caCertificate`);
    }
    if (basicAuth) checkDnsLabel(this, 'basicAuth.secretName', basicAuth.secretName, 253);
    if (caCertificate) checkDnsLabel(this, 'caCertificate name', caCertificate.name, 253);
    const image = props.image ?? DEFAULT_IMAGE;
    if (!image.trim() || /\s/.test(image)) throw invalidInput(this, 'image', image, `use an image reference such as "${DEFAULT_IMAGE}"`);

    if (props.partOf !== undefined) checkLabelValue(this, 'partOf', props.partOf);
    const identity: ObjectIdentity = { name: this.name, component: 'cleanup', partOf: props.partOf ?? DEFAULT_PART_OF, version: imageVersion(image) };
    const labels = objectLabels(identity);
    if (pushgateway.writeScope && namespace !== pushgateway.namespace) {
      throw invalidInput(this, 'namespace', namespace,
        `under writeScope only the credentials of the Pushgateway's namespace (${pushgateway.namespace}) delete other namespaces' groups: run the cleanup there (drop namespace)`);
    }

    const programDir = path.dirname(CleanupCronJob.programPath());
    const modules = fs.readdirSync(programDir).filter((file) => file.endsWith('.js')).sort();
    const registry = props.registry;
    this.configMap = new ConfigMap(this, 'Program', {
      metadata: { name: this.name, namespace, labels },
      data: {
        ...Object.fromEntries(modules.map((file) => [file, fs.readFileSync(path.join(programDir, file), 'utf8')])),
        // Jobs may be declared after this construct: the list is written at synth.
        ...(registry ? { [DECLARED_JOBS]: Lazy.any({ produce: () => registry.jobs.map((job) => `${job.name}\n`).join('') }) } : {}),
      },
    });

    this.args = [
      ...(props.url !== undefined ? [`${CLEANUP_FLAGS.url}=${url}`] : []),
      `${CLEANUP_FLAGS.maxAge}=${toPrometheusDuration(this.maxAge)}`,
      ...(registry ? [`${CLEANUP_FLAGS.declaredJobsFile}=${PROGRAM_DIR}/${DECLARED_JOBS}`] : []),
      `${CLEANUP_FLAGS.supersededAfter}=${toPrometheusDuration(this.supersededAfter)}`,
      ...this.jobs.map((job) => `${CLEANUP_FLAGS.job}=${job}`),
      ...this.excludeJobs.map((job) => `${CLEANUP_FLAGS.excludeJob}=${job}`),
      `${CLEANUP_FLAGS.concurrency}=${concurrency}`,
      `${CLEANUP_FLAGS.timeout}=${toPrometheusDuration(requestTimeout)}`,
      ...(this.pushMetrics ? [CLEANUP_FLAGS.pushMetrics] : []),
      ...(props.dryRun ? [CLEANUP_FLAGS.dryRun] : []),
    ];

    this.cronJob = new CronJob(this, 'CronJob', {
      metadata: { name: this.name, namespace, labels },
      podMetadata: { labels },
      schedule: this.schedule,
      timeZone: props.timeZone,
      concurrencyPolicy: ConcurrencyPolicy.FORBID,
      startingDeadline,
      successfulJobsRetained: props.successfulJobsRetained ?? 3,
      failedJobsRetained: props.failedJobsRetained ?? 3,
      activeDeadline: this.activeDeadline,
      backoffLimit: props.backoffLimit ?? 2,
      automountServiceAccountToken: false,
      securityContext: { user: NODE_USER, group: NODE_USER, ensureNonRoot: true },
      containers: [{
        name: 'cleanup',
        image,
        imagePullPolicy: props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
        command: ['node', `${PROGRAM_DIR}/${PROGRAM}`],
        args: this.args,
        resources: props.resources ?? {
          cpu: { request: Cpu.millis(10), limit: Cpu.millis(500) },
          memory: { request: Size.mebibytes(64), limit: Size.mebibytes(192) },
        },
        securityContext: {
          user: NODE_USER,
          group: NODE_USER,
          ensureNonRoot: true,
          ...RESTRICTED_CONTAINER,
          capabilities: { drop: [DROP_ALL] },
        },
        volumeMounts: [
          {
            path: PROGRAM_DIR,
            readOnly: true,
            volume: Volume.fromConfigMap(this, 'ProgramVolume', this.configMap, { name: 'program', defaultMode: 0o444 }),
          },
        ],
      }],
    });
    // The URLs (each replica's), the credentials and the CA, as every pusher gets them; an explicit
    // `url` wins over the URLs.
    pushgateway.grantPush(this.cronJob, { basicAuth, caCertificate });

    useRuntimeDefaultSeccomp(this.cronJob);
  }

  /**
   * Declares the cleanup's own job: its runs push their metrics, so the batch-job alerts watch it
   * like any job; half the active deadline as max duration warns before runs get killed.
   */
  private declareTo(registry: JobRegistry, namespace: string): void {
    registry.addJob({
      name: CleanupCronJob.METRICS_JOB,
      namespace,
      interval: this.interval,
      maxDuration: Duration.seconds(Math.max(1, Math.round(this.activeDeadline.toSeconds({ integral: false }) / 2))),
    });
  }
}
