import { Duration, Size } from 'cdk8s';
import { ConfigMap, Container, ContainerProps, ContainerResources, Cpu, CronJob, CronJobProps, EnvValue, ImagePullPolicy, Volume } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BatchMonitoringChart } from './batch-monitoring-chart';
import { DROP_ALL, useRuntimeDefaultSeccomp } from './cron-job-pod';
import { cronScheduleGap } from './cron-schedule';
import { PUSHER_ENV } from './names';
import { DEFAULT_PART_OF, objectLabels } from './object-labels';
import { readPackageFile } from './package-file';
import { NOBODY } from './pod-security';
import { JobRegistry, RegisteredJob } from './job-registry';
import { IPushgateway } from './pushgateway-interface';
import { addPusherEnvironment, authOf } from './pusher-pod';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkRequired, checkStartingDeadline, invalidInput, optional, REQUIRED_CRON, REQUIRED_DURATION, REQUIRED_STRING } from './validation';

/** Props for `MonitoredCronJob`. */
export interface MonitoredCronJobProps extends CronJobProps {
  /**
   * The chart whose Pushgateway the job pushes to, and whose registry it is declared to. Give
   * either this or `registry`.
   * @default - the `registry`'s
   */
  readonly monitoring?: BatchMonitoringChart;
  /**
   * The job registry the job is declared to, and whose Pushgateway it pushes to: in an app without
   * the monitoring chart, a `JobRegistry` for `Pushgateway.fromPushgatewayAttributes(...)`.
   * @default - the `monitoring` chart's
   */
  readonly registry?: JobRegistry;
  /**
   * The `job` label the job pushes with; also the CronJob name unless `metadata.name` is given.
   * At most 52 characters, the CronJob name limit.
   */
  readonly jobName: string;
  /**
   * How often the job is expected to succeed, e.g. `Duration.hours(24)` for a daily schedule; at
   * least the longest gap between two runs of `schedule`.
   * @default - that longest gap, as Kubernetes runs `schedule` in `timeZone`: 1 day for
   * `0 3 * * *`, 7 days for `0 3 * * MON`, 31 days for `@monthly`, 47 hours for `30 2 * * *` in
   * `Europe/Berlin` (the spring clock change skips 02:30)
   */
  readonly interval?: Duration;
  /** The longest a run may take before it counts as too slow. */
  readonly maxDuration: Duration;
  /**
   * Extra time after `interval` before a missing success alerts.
   * @default - see `BatchJob.grace`
   */
  readonly grace?: Duration;
  /**
   * Static labels added to the job's alerts.
   * @default - none
   */
  readonly alertLabels?: Record<string, string>;
  /**
   * Wrap every container's command in a POSIX sh script that times it, keeps its exit code, and
   * pushes `batch_job_success`, `batch_job_duration_seconds` and, on success,
   * `batch_job_last_success_timestamp_seconds` (and the exit code, the signal that killed it, and
   * whether a run is going on: docs/push-wrapper.md), so that the job's code does not change. The image
   * needs `sh` and `curl` or `wget`, and each container an explicit `command`. With two or more
   * wrapped containers, each pushes to a group of its own (grouping label `batch_container`, from
   * `BATCH_JOB_CONTAINER`), so that a container's failure is never overwritten by another's success.
   * @default false - the job pushes its own metrics, e.g. with a Prometheus client library
   */
  readonly wrapCommand?: boolean;
}

const WRAPPER_DIR = '/opt/batch-monitoring';
const WRAPPER_FILE = 'push-metrics.sh';
// cdk8s-plus asks for 1 CPU and 512Mi per container, more than a typical `sh -c` job uses.
const DEFAULT_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(50), limit: Cpu.millis(500) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
};

/**
 * A Kubernetes CronJob (cdk8s-plus) for a batch job that reports to the Pushgateway: the job is
 * declared to the job registry once (the chart's, or one for a Pushgateway deployed elsewhere),
 * every container gets `PUSHGATEWAY_URL` and `BATCH_JOB_NAME` (and, with a Pushgateway web config,
 * credentials from its Secret and its CA), the pods are admitted by the Pushgateway's
 * NetworkPolicy, and, when asked, each command is wrapped so that the job pushes its outcome
 * without a code change. Unless set otherwise, the pod runs as user and group 65534 (root is
 * refused), and each container asks for 50m CPU and 64Mi memory (limits 500m and 256Mi) with
 * `imagePullPolicy: IfNotPresent`.
 */
export class MonitoredCronJob extends CronJob {
  /** The job as declared to the registry. */
  public readonly job: RegisteredJob;
  /** The Pushgateway the job pushes to. */
  public readonly pushgateway: IPushgateway;
  private readonly wrapCommand: boolean;
  private readonly jobLabels: Record<string, string>;
  private readonly wrappedContainers: Container[] = [];
  private wrapperVolume?: Volume;

  constructor(scope: Construct, id: string, props: MonitoredCronJobProps) {
    const path = scope.node.path ? `${scope.node.path}/${id}` : id;
    checkRequired(path, 'MonitoredCronJobProps', props,
      { jobName: REQUIRED_STRING, interval: optional(REQUIRED_DURATION), maxDuration: REQUIRED_DURATION, schedule: REQUIRED_CRON });
    const { monitoring, registry: givenRegistry, jobName, interval, maxDuration, grace, alertLabels, wrapCommand, containers, ...cronJobProps } = props;
    // cdk8s-plus refuses these itself, but without naming the construct or the value.
    if ((monitoring === undefined) === (givenRegistry === undefined)) {
      throw invalidInput(path, 'monitoring', monitoring?.node.path ?? null,
        'give either `monitoring` (a BatchMonitoringChart) or `registry` (a JobRegistry, e.g. for Pushgateway.fromPushgatewayAttributes(...)), not both and not neither');
    }
    const registry = (monitoring?.registry ?? givenRegistry)!;
    if (cronJobProps.startingDeadline) checkStartingDeadline(path, cronJobProps.startingDeadline);
    // cdk8s-plus adds props.containers from its own constructor, before the job they push for is
    // declared: they are added at the end of this one instead, through addContainer.
    const labels = objectLabels({ name: jobName, component: 'batch-job', partOf: registry.pushgateway.labels['app.kubernetes.io/part-of'] ?? DEFAULT_PART_OF });
    super(scope, id, {
      // cdk8s-plus's 10s default lets a busy controller skip a run without a trace.
      startingDeadline: Duration.minutes(5),
      ...cronJobProps,
      // A container that sets no user runs as nobody: most images (alpine among them) run as root,
      // which runAsNonRoot makes the kubelet refuse (CreateContainerConfigError).
      securityContext: { user: NOBODY, group: NOBODY, ensureNonRoot: true, ...cronJobProps.securityContext },
      metadata: { name: jobName, ...cronJobProps.metadata, labels: { ...labels, ...cronJobProps.metadata?.labels } },
      podMetadata: {
        ...cronJobProps.podMetadata,
        labels: { ...labels, ...cronJobProps.podMetadata?.labels },
      },
    });
    this.jobLabels = labels;
    refuseDuplicateObjects(this);
    refuseRoot(this, 'securityContext', cronJobProps.securityContext);
    if (jobName.length > 52) {
      throw invalidInput(this, 'jobName', jobName, 'use at most 52 characters: Kubernetes limits CronJob names to 52');
    }
    checkDnsLabel(this, 'jobName', jobName, 52);
    const gap = cronScheduleGap(this, 'schedule', props.schedule, props.timeZone);
    if (interval && interval.toMilliseconds() < gap.duration.toMilliseconds()) {
      throw invalidInput(this, 'interval', interval.toHumanString(),
        `the schedule "${props.schedule.expressionString}"${props.timeZone ? ` in ${props.timeZone}` : ''} leaves up to ${gap.duration.toHumanString()} between runs (${gap.from} to ${gap.to}), so BatchJobNotRunning would fire between runs: raise interval to at least that, or leave it out to get that`);
    }
    this.pushgateway = registry.pushgateway;
    this.wrapCommand = wrapCommand ?? false;
    const namespace = this.metadata.namespace;
    if (!namespace) {
      throw invalidInput(this, 'namespace', namespace ?? null, 'set a namespace on the chart or in metadata.namespace: the alerts need to know where the CronJob runs');
    }
    // Its alerts carry the CronJob's namespace, where its owners route and inhibit.
    this.job = registry.addJob({ name: jobName, namespace, cronJob: this.name, interval: interval ?? gap.duration, maxDuration, grace, labels: alertLabels });
    // The pusher label and the note of what the namespace needs; each container gets the rest as it is added.
    this.pushgateway.grantPush(this, { jobName });
    useRuntimeDefaultSeccomp(this);
    for (const container of containers ?? []) this.addContainer(container);
  }

  /** Adds a container with the job's environment and, if `wrapCommand` is set, its command wrapped. */
  public addContainer(cont: ContainerProps): Container {
    if (!this.job) {
      throw new Error(`${this.node.path}: MonitoredCronJob.addContainer ran before the job was declared: its constructor must add props.containers itself, last`);
    }
    // cdk8s-plus fills in non-root, read-only root and no privilege escalation; dropping every
    // capability is the one default it lacks for Pod Security "restricted".
    const securityContext = { capabilities: { drop: [DROP_ALL] }, ...cont.securityContext };
    refuseRoot(this, `container ${JSON.stringify(cont.name ?? 'main')} securityContext`, cont.securityContext);
    const container = super.addContainer({
      imagePullPolicy: ImagePullPolicy.IF_NOT_PRESENT,
      resources: DEFAULT_RESOURCES,
      ...cont,
      securityContext,
      ...(this.wrapCommand ? this.wrapped(cont) : {}),
    });
    addPusherEnvironment(this, container, this.pushgateway, authOf(this.pushgateway, {}), this.job.name);
    if (this.wrapCommand) this.groupByContainer(container);
    return container;
  }

  /**
   * Two wrapped containers pushing to one group would leave only the result of the one that ended
   * last: from the second on, each pushes to a group of its own. One alone keeps the plain group.
   */
  private groupByContainer(container: Container): void {
    this.wrappedContainers.push(container);
    if (this.wrappedContainers.length < 2) return;
    for (const c of this.wrappedContainers.length === 2 ? this.wrappedContainers : [container]) {
      c.env.addVariable(PUSHER_ENV.container, EnvValue.fromValue(c.name));
    }
  }

  private wrapped(cont: ContainerProps): Partial<ContainerProps> {
    if (!cont.command || cont.command.length === 0) {
      throw invalidInput(this, `container ${JSON.stringify(cont.name ?? 'main')} command`, cont.command ?? null,
        'give the container an explicit `command` (the wrapper runs it; an image ENTRYPOINT cannot be wrapped from outside), or set wrapCommand: false');
    }
    if (!this.wrapperVolume) {
      const configMap = new ConfigMap(this, 'PushWrapper', {
        // Beside the pods that mount it, also when metadata.namespace moves the CronJob out of the chart's namespace.
        metadata: { name: `${this.job.name}-push-wrapper`, namespace: this.metadata.namespace, labels: this.jobLabels },
        data: { [WRAPPER_FILE]: readPackageFile(`lib/push-wrapper/${WRAPPER_FILE}`) },
      });
      this.wrapperVolume = Volume.fromConfigMap(this, 'PushWrapperVolume', configMap, { name: 'push-wrapper' });
    }
    return {
      command: ['/bin/sh', `${WRAPPER_DIR}/${WRAPPER_FILE}`, ...cont.command],
      volumeMounts: [...(cont.volumeMounts ?? []), { volume: this.wrapperVolume, path: WRAPPER_DIR, readOnly: true }],
    };
  }
}

/**
 * Pod Security "restricted", which the library's pods meet, forbids running as root; so does the
 * kubelet once runAsNonRoot is set. Refused here, where the construct path can be named.
 */
function refuseRoot(scope: Construct, field: string, context: { readonly user?: number; readonly ensureNonRoot?: boolean } | undefined): void {
  if (context?.user === 0) {
    throw invalidInput(scope, `${field}.user`, 0,
      `run as a non-root numeric user (the default is ${NOBODY}, nobody): Pod Security "restricted" and runAsNonRoot forbid root; give an image that writes files an emptyDir volume where it writes instead of root`);
  }
  if (context?.ensureNonRoot === false) {
    throw invalidInput(scope, `${field}.ensureNonRoot`, false,
      `remove it: Pod Security "restricted" requires runAsNonRoot; the pod runs as user ${NOBODY} unless you set another non-root user`);
  }
}
