import { Chart, Duration, Size } from 'cdk8s';
import { ContainerResources, Cpu, ImagePullPolicy, k8s, ServiceType } from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import {
  ServiceMonitor, ServiceMonitorSpecEndpointsMetricRelabelings, ServiceMonitorSpecEndpointsRelabelings, ServiceMonitorSpecEndpointsScheme,
} from '../imports/monitoring.coreos.com';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toKubeResources, toQuantity } from './kube-quantity';
import { DEFAULT_PART_OF, imageVersion, ObjectIdentity, objectLabels, selectorLabels } from './object-labels';
import { toGoDuration, toPrometheusDuration } from './prometheus-duration';
import { PushgatewayPeer } from './pushgateway-peer';
import { PushgatewayClientAuth, PushgatewayIngress, PushgatewayWebConfig } from './pushgateway-web-config';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkKubernetesLabels, checkLabelValue, checkPort, checkPositive, checkUrlPath, invalidInput } from './validation';

/** Access modes a Pushgateway volume can be claimed with. */
export enum PushgatewayVolumeAccessMode {
  /** One node mounts the volume read-write: one replica updated with the Recreate strategy, or each replica its own volume. */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** One pod mounts the volume read-write. */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
  /** Many nodes mount the volume read-write. */
  READ_WRITE_MANY = 'ReadWriteMany',
}

/** Props for `Pushgateway`. */
export interface PushgatewayProps {
  /**
   * Name of every object, the `app.kubernetes.io/name` label, and the Service host name; at most
   * 53 characters (52 with replicas: StatefulSet pods are labelled with it plus a hash).
   * @default 'pushgateway'
   */
  readonly name?: string;
  /**
   * Namespace of every object.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * The kube-prometheus flavour that scrapes this Pushgateway.
   * @default KubePrometheusFlavour.kubePrometheus()
   */
  readonly flavour?: KubePrometheusFlavour;
  /**
   * The `app.kubernetes.io/part-of` label.
   * @default 'batch-monitoring'
   */
  readonly partOf?: string;
  /**
   * Container image, pinned by tag or digest.
   * @default 'quay.io/prometheus/pushgateway:v1.11.3'
   */
  readonly image?: string;
  /**
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * Names of Secrets to pull the image with.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * Number of Pushgateway pods. With more than one, the Pushgateway runs in its high-availability
   * mode: a StatefulSet with one volume and persistence file per replica, a headless Service that
   * gives each replica a stable address (`replicaUrls`), a PodDisruptionBudget and replicas spread
   * over nodes. The replicas do not replicate: every pusher writes to all of them
   * (`PUSHGATEWAY_URLS`), and the alerts take the newest push across them.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The PodDisruptionBudget of the replicas (replicas > 1 only).
   * @default - with replicas > 1, `maxUnavailable: 1`
   */
  readonly disruptionBudget?: PushgatewayDisruptionBudget;
  /**
   * How the pods spread over the cluster (`topologySpreadConstraints`); `[]` for none.
   * @default - with replicas > 1, at most one replica per node (`kubernetes.io/hostname`, DoNotSchedule) and spread over zones where possible (`topology.kubernetes.io/zone`, ScheduleAnyway); with one replica, none
   */
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
  /**
   * Whether pushed metrics survive a restart: a PersistentVolumeClaim mounted at /data and the
   * Pushgateway's `--persistence.file` pointing into it. With replicas > 1, one claim per replica
   * (`data-<name>-<ordinal>`, from the StatefulSet's volumeClaimTemplates).
   * @default true
   */
  readonly persistence?: boolean;
  /**
   * Size of the claimed volume.
   * @default Size.gibibytes(2)
   */
  readonly persistenceSize?: Size;
  /**
   * StorageClass of the claim.
   * @default - the cluster's default StorageClass
   */
  readonly persistenceStorageClass?: string;
  /**
   * Access mode of the claim.
   * @default PushgatewayVolumeAccessMode.READ_WRITE_ONCE
   */
  readonly persistenceAccessMode?: PushgatewayVolumeAccessMode;
  /**
   * Use this existing PersistentVolumeClaim instead of defining one (one replica only: replicas
   * must not share a persistence file).
   * @default - a claim named `<name>-data` is defined
   */
  readonly persistenceExistingClaim?: string;
  /**
   * The most time between a change and its write to the persistence file (`--persistence.interval`).
   * @default Duration.minutes(5)
   */
  readonly persistenceInterval?: Duration;
  /**
   * Enable `PUT /-/quit` (`--web.enable-lifecycle`).
   * @default false
   */
  readonly enableLifecycle?: boolean;
  /**
   * Enable `PUT /api/v1/admin/wipe` (`--web.enable-admin-api`).
   * @default false
   */
  readonly enableAdminApi?: boolean;
  /**
   * Serve every endpoint under this path (`--web.route-prefix`), e.g. `/pushgateway`.
   * Probes, the ServiceMonitor and `url` follow it.
   * @default - none: endpoints at the root
   */
  readonly routePrefix?: string;
  /**
   * Path of the scrape endpoint (`--web.telemetry-path`), below `routePrefix`.
   * @default '/metrics'
   */
  readonly telemetryPath?: string;
  /**
   * The port the Pushgateway listens on, and the Service port.
   * @default 9091
   */
  readonly port?: number;
  /**
   * Type of the Service. With NodePort or LoadBalancer, clients outside the cluster reach the
   * Pushgateway directly: admit them in `pushers` with `PushgatewayPeer.ipBlock(...)`, or set
   * `networkPolicy: false`.
   * @default ServiceType.CLUSTER_IP
   */
  readonly serviceType?: ServiceType;
  /**
   * Annotations on the Service (e.g. for a cloud load balancer).
   * @default - none
   */
  readonly serviceAnnotations?: Record<string, string>;
  /**
   * Annotations on the ServiceAccount (e.g. a workload identity).
   * @default - none
   */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /**
   * Extra labels on the ServiceMonitor, merged with the flavour's (e.g. what a Prometheus
   * `serviceMonitorSelector` of your own selects).
   * @default - the flavour's labels only
   */
  readonly serviceMonitorLabels?: Record<string, string>;
  /**
   * Relabelings applied to each target before the scrape (`relabelings` of the ServiceMonitor endpoint).
   * @default - none
   */
  readonly relabelings?: ServiceMonitorSpecEndpointsRelabelings[];
  /**
   * Relabelings applied to the scraped series (`metricRelabelings` of the ServiceMonitor endpoint).
   * Do not drop or rename the pushed `job` label or the `batch_job_*` series: the alerts read them.
   * @default - none
   */
  readonly metricRelabelings?: ServiceMonitorSpecEndpointsMetricRelabelings[];
  /**
   * Basic auth and TLS (`--web.config.file`) from Secrets you manage. The ServiceMonitor, the probes,
   * `MonitoredCronJob` and `CleanupCronJob` follow it.
   * @default - plain HTTP, no authentication (the NetworkPolicy limits who may connect)
   */
  readonly webConfig?: PushgatewayWebConfig;
  /**
   * An Ingress for pushers outside the cluster (use it with `webConfig` basic auth: anyone who can
   * push can write any series into Prometheus).
   * @default - no Ingress
   */
  readonly ingress?: PushgatewayIngress;
  /**
   * CPU and memory requests and limits of the container.
   * @default - requests 50m / 50Mi, limits 200m / 200Mi
   */
  readonly resources?: ContainerResources;
  /**
   * How often Prometheus scrapes the Pushgateway.
   * @default Duration.seconds(15)
   */
  readonly scrapeInterval?: Duration;
  /**
   * Scrape timeout; at most `scrapeInterval`.
   * @default - Prometheus's global scrape timeout
   */
  readonly scrapeTimeout?: Duration;
  /**
   * Whether to define a NetworkPolicy that admits only Prometheus and `pushers` to the Pushgateway port.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Who may push, besides Prometheus which may always scrape. Needs the NetworkPolicy; empty only
   * together with an `ingress`.
   * @default - pods in any namespace that carry the label `batch-monitoring.io/pusher: "true"` (`Pushgateway.PUSHER_LABEL`)
   */
  readonly pushers?: PushgatewayPeer[];
  /**
   * Extra command-line flags, e.g. `['--log.level=debug']`. Flags the construct manages are refused here.
   * @default - none
   */
  readonly extraArgs?: string[];
  /**
   * Extra volumes of the pod, for `extraVolumeMounts`.
   * @default - none
   */
  readonly extraVolumes?: k8s.Volume[];
  /**
   * Extra mounts of the Pushgateway container, of `extraVolumes`.
   * @default - none
   */
  readonly extraVolumeMounts?: k8s.VolumeMount[];
  /**
   * Environment variables of the container.
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * Node selector, merged over `kubernetes.io/os: linux`.
   * @default { 'kubernetes.io/os': 'linux' }
   */
  readonly nodeSelector?: Record<string, string>;
  /**
   * Pod tolerations.
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];
  /**
   * Pod affinity and anti-affinity.
   * @default - none
   */
  readonly affinity?: k8s.Affinity;
  /**
   * PriorityClass of the pod.
   * @default - the cluster default
   */
  readonly priorityClassName?: string;
  /**
   * Extra labels on the pod (not used by any selector).
   * @default - none
   */
  readonly podLabels?: Record<string, string>;
  /**
   * Annotations on the pod.
   * @default - none
   */
  readonly podAnnotations?: Record<string, string>;
}

/**
 * A PodDisruptionBudget: how many replicas a voluntary disruption (a node drain) may take down at
 * once. Give one of the two fields.
 */
export interface PushgatewayDisruptionBudget {
  /**
   * Replicas that may be unavailable at once; at least 1, or drains never finish.
   * @default 1
   */
  readonly maxUnavailable?: number;
  /**
   * Replicas that must stay available; below `replicas`, or drains never finish.
   * @default - maxUnavailable is used
   */
  readonly minAvailable?: number;
}

const DEFAULT_IMAGE = 'quay.io/prometheus/pushgateway:v1.11.3';
const DATA_DIR = '/data';
const WEB_CONFIG_DIR = '/etc/pushgateway/web';
const TLS_DIR = '/etc/pushgateway/tls';
// The image's user (`USER 65534` in the Pushgateway Dockerfile); also owns the volume through fsGroup.
const NOBODY = 65534;
// Marks the headless Service, which the ServiceMonitor must not select: it would scrape every replica twice.
const HEADLESS_LABEL = 'batch-monitoring.io/headless';
// The volume types Pod Security "restricted" admits.
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const MANAGED_VOLUMES: Record<string, string> = { data: DATA_DIR, 'web-config': WEB_CONFIG_DIR, tls: TLS_DIR };
const MANAGED_FLAGS = [
  '--web.listen-address', '--web.route-prefix', '--web.telemetry-path', '--web.enable-lifecycle',
  '--web.enable-admin-api', '--persistence.file', '--persistence.interval', '--web.config.file',
];

/**
 * A Pushgateway as pushers, rules and dashboards see it: where it is and how to reach it. A
 * `Pushgateway` deployed by this app is one; `Pushgateway.fromPushgatewayAttributes` makes one for
 * a Pushgateway deployed elsewhere (another app, a Helm release).
 */
export interface IPushgateway extends IConstruct {
  /** The Service name, and the scrape `job` label of the Pushgateway's own metrics. */
  readonly name: string;
  /** Namespace of the Pushgateway's Service. */
  readonly namespace: string;
  /** The Service port. */
  readonly port: number;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The route prefix, `''` when none. */
  readonly routePrefix: string;
  /** The in-cluster base URL clients push to (the Service). */
  readonly url: string;
  /** Number of replicas; every pusher pushes to each, Prometheus scrapes each. */
  readonly replicas: number;
  /** One base URL per replica (with 1 replica: `[url]`). */
  readonly replicaUrls: string[];
  /** The Secrets clients authenticate and verify TLS with; empty without a web config. */
  readonly clientAuth: PushgatewayClientAuth;
  /** The flavour of the kube-prometheus that scrapes the Pushgateway and loads rules about it. */
  readonly flavour: KubePrometheusFlavour;
  /** Labels on the Pushgateway's objects (`app.kubernetes.io/part-of` names the product). */
  readonly labels: Record<string, string>;
}

/** What `Pushgateway.fromPushgatewayAttributes` needs to know about a Pushgateway deployed elsewhere. */
export interface PushgatewayAttributes {
  /** The Service name, and the scrape `job` label of the Pushgateway's own metrics. */
  readonly name: string;
  /** Namespace of the Pushgateway's Service. */
  readonly namespace: string;
  /**
   * The Service port.
   * @default 9091
   */
  readonly port?: number;
  /**
   * `http` or `https`.
   * @default 'http'
   */
  readonly scheme?: string;
  /**
   * The route prefix, e.g. `/pushgateway`.
   * @default - none
   */
  readonly routePrefix?: string;
  /**
   * Number of replicas.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * One base URL per replica, when there are several.
   * @default - `[url]`
   */
  readonly replicaUrls?: string[];
  /**
   * Secrets clients authenticate and verify TLS with.
   * @default - none
   */
  readonly clientAuth?: PushgatewayClientAuth;
  /**
   * The flavour of the kube-prometheus that loads the rules.
   * @default KubePrometheusFlavour.kubePrometheus()
   */
  readonly flavour?: KubePrometheusFlavour;
  /**
   * The `app.kubernetes.io/part-of` label of objects declared about it.
   * @default 'batch-monitoring'
   */
  readonly partOf?: string;
}

/**
 * A Prometheus Pushgateway for batch jobs, set up for kube-prometheus: a Deployment with
 * persistence that survives restarts (or, with replicas, a StatefulSet with a volume per replica),
 * a Service, a ServiceMonitor that keeps the pushed `job` labels (`honorLabels`), a NetworkPolicy,
 * and the RBAC Prometheus needs to find it.
 */
export class Pushgateway extends Construct implements IPushgateway {
  /**
   * A Pushgateway this app does not deploy, for declaring jobs, MonitoredCronJobs and their rules
   * against it (the AWS CDK's unowned-resource pattern).
   */
  public static fromPushgatewayAttributes(scope: Construct, id: string, attrs: PushgatewayAttributes): IPushgateway {
    return new ImportedPushgateway(scope, id, attrs);
  }

  /** The pod label that admits a pod to push under the default NetworkPolicy. */
  public static readonly PUSHER_LABEL = 'batch-monitoring.io/pusher';

  /** The object name, and the scrape `job` label of the Pushgateway's own metrics. */
  public readonly name: string;
  /** Namespace of the Pushgateway objects. */
  public readonly namespace: string;
  /** The Service port. */
  public readonly port: number;
  /** The route prefix, `''` when none. */
  public readonly routePrefix: string;
  /** The in-cluster base URL clients push to, e.g. `http://pushgateway.monitoring.svc:9091`. */
  public readonly url: string;
  /** Number of replicas. */
  public readonly replicas: number;
  /**
   * One base URL per replica, through the headless Service, e.g.
   * `http://pushgateway-0.pushgateway-headless.monitoring.svc:9091`; `[url]` with one replica.
   */
  public readonly replicaUrls: string[];
  /** `https` with a TLS web config, else `http`. */
  public readonly scheme: string;
  /** The Secrets clients authenticate and verify TLS with; empty without a web config. */
  public readonly clientAuth: PushgatewayClientAuth;
  /** The flavour the Pushgateway is set up for. */
  public readonly flavour: KubePrometheusFlavour;
  /** The container arguments. */
  public readonly args: string[];
  /** Labels on every Pushgateway object. */
  public readonly labels: Record<string, string>;
  /** Labels that select the Pushgateway pods. */
  public readonly selectorLabels: Record<string, string>;
  /** The Deployment; undefined with replicas > 1. */
  public readonly deployment?: k8s.KubeDeployment;
  /** The StatefulSet, with replicas > 1. */
  public readonly statefulSet?: k8s.KubeStatefulSet;
  /** The Service. */
  public readonly service: k8s.KubeService;
  /** The headless Service that gives each replica its address, with replicas > 1. */
  public readonly headlessService?: k8s.KubeService;
  /** The PodDisruptionBudget, with replicas > 1. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The ServiceMonitor. */
  public readonly serviceMonitor: ServiceMonitor;

  constructor(scope: Construct, id: string, props: PushgatewayProps = {}) {
    super(scope, id);
    refuseDuplicateObjects(this);
    this.name = props.name ?? 'pushgateway';
    checkDnsLabel(this, 'name', this.name, 53);
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (!namespace) {
      throw invalidInput(this, 'namespace', namespace,
        'set a namespace on the chart (`new Chart(app, id, { namespace: "monitoring" })`) or in props.namespace, so that the Pushgateway URL is known');
    }
    checkDnsLabel(this, 'namespace', namespace);
    this.namespace = namespace;
    this.flavour = props.flavour ?? KubePrometheusFlavour.kubePrometheus();
    this.port = props.port ?? 9091;
    checkPort(this, 'port', this.port);
    this.routePrefix = props.routePrefix ?? '';
    if (props.routePrefix !== undefined) {
      checkUrlPath(this, 'routePrefix', props.routePrefix);
      if (props.routePrefix === '/') this.routePrefix = '';
    }
    const telemetryPath = props.telemetryPath ?? '/metrics';
    checkUrlPath(this, 'telemetryPath', telemetryPath);
    const image = props.image ?? DEFAULT_IMAGE;
    if (!image.trim() || /\s/.test(image)) throw invalidInput(this, 'image', image, 'use an image reference such as "quay.io/prometheus/pushgateway:v1.11.3"');

    const persistence = props.persistence ?? true;
    const accessMode = props.persistenceAccessMode ?? PushgatewayVolumeAccessMode.READ_WRITE_ONCE;
    const replicas = props.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw invalidInput(this, 'replicas', replicas,
        'use a whole number of at least 1 (1 for a single Pushgateway, 2 or more for high availability): with 0 every push fails');
    }
    this.replicas = replicas;
    const ha = replicas > 1;
    if (ha) this.checkReplicaProps(props);
    if (!ha && props.disruptionBudget) {
      throw invalidInput(this, 'disruptionBudget', props.disruptionBudget,
        'a PodDisruptionBudget for a single replica either blocks every node drain or allows anything: drop it, or set replicas: 2 or more');
    }
    const persistenceInterval = props.persistenceInterval ?? Duration.minutes(5);
    checkPositive(this, 'persistenceInterval', persistenceInterval);
    for (const arg of props.extraArgs ?? []) {
      const flag = arg.split('=')[0];
      if (MANAGED_FLAGS.includes(flag)) {
        throw invalidInput(this, 'extraArgs', arg, `remove it: ${flag} is set by the construct; use the matching prop (e.g. routePrefix, persistenceInterval, enableLifecycle)`);
      }
    }
    const scrapeInterval = props.scrapeInterval ?? Duration.seconds(15);
    checkPositive(this, 'scrapeInterval', scrapeInterval);
    if (props.scrapeTimeout) {
      checkPositive(this, 'scrapeTimeout', props.scrapeTimeout);
      if (props.scrapeTimeout.toMilliseconds() > scrapeInterval.toMilliseconds()) {
        throw invalidInput(this, 'scrapeTimeout', props.scrapeTimeout.toHumanString(),
          `use at most scrapeInterval (${scrapeInterval.toHumanString()}); Prometheus refuses a longer timeout`);
      }
    }
    for (const [field, labels] of Object.entries({ podLabels: props.podLabels, nodeSelector: props.nodeSelector })) {
      if (labels) checkKubernetesLabels(this, field, labels);
    }
    if (props.persistenceExistingClaim !== undefined) checkDnsLabel(this, 'persistenceExistingClaim', props.persistenceExistingClaim, 253);
    if (!persistence) {
      // Settings of a volume that is not there would be silently ignored.
      const volumeSettings: Record<string, string | undefined> = {
        persistenceSize: props.persistenceSize && String(toQuantity(props.persistenceSize).value),
        persistenceStorageClass: props.persistenceStorageClass,
        persistenceAccessMode: props.persistenceAccessMode,
        persistenceExistingClaim: props.persistenceExistingClaim,
      };
      const unused = Object.keys(volumeSettings).find((field) => volumeSettings[field] !== undefined);
      if (unused) {
        throw invalidInput(this, unused, volumeSettings[unused], `it only applies with persistence: drop ${unused}, or set persistence: true`);
      }
    }
    if (props.networkPolicy === false && props.pushers) {
      throw invalidInput(this, 'pushers', props.pushers.map((peer) => peer._toKube()),
        'pushers only take effect through the NetworkPolicy, which networkPolicy: false leaves out: drop pushers, or set networkPolicy: true');
    }
    if ((props.networkPolicy ?? true) && props.pushers?.length === 0 && !props.ingress) {
      throw invalidInput(this, 'pushers', [],
        'with the NetworkPolicy and no ingress, nobody could push: name who may push, or leave pushers out to admit pods labelled batch-monitoring.io/pusher: "true"');
    }
    if (props.partOf !== undefined) checkLabelValue(this, 'partOf', props.partOf);

    const identity: ObjectIdentity = {
      name: this.name,
      component: 'exporter',
      partOf: props.partOf ?? DEFAULT_PART_OF,
      version: imageVersion(image),
    };
    this.labels = objectLabels(identity);
    this.selectorLabels = selectorLabels(identity);
    const web = props.webConfig;
    if (web) this.checkWebConfig(web);
    this.checkServiceProps(props);
    this.checkExtraVolumes(props.extraVolumes ?? [], props.extraVolumeMounts ?? []);
    const tls = web?.tlsSecretName !== undefined;
    this.scheme = tls ? 'https' : 'http';
    const caSecretName = web?.caSecretName ?? web?.tlsSecretName;
    this.clientAuth = {
      username: web?.clientSecretName ? { secretName: web.clientSecretName, key: web.clientUsernameKey ?? 'username' } : undefined,
      password: web?.clientSecretName ? { secretName: web.clientSecretName, key: web.clientPasswordKey ?? 'password' } : undefined,
      ca: tls && caSecretName ? { secretName: caSecretName, key: web?.caSecretKey ?? 'ca.crt' } : undefined,
    };
    this.url = `${this.scheme}://${this.name}.${namespace}.svc:${this.port}${this.routePrefix}`;
    const headlessName = `${this.name}-headless`;
    this.replicaUrls = ha
      ? Array.from({ length: replicas }, (_, i) => `${this.scheme}://${this.name}-${i}.${headlessName}.${namespace}.svc:${this.port}${this.routePrefix}`)
      : [this.url];
    const metadata = (name: string, extraLabels: Record<string, string> = {}) => ({
      name, namespace, labels: { ...this.labels, ...extraLabels },
    });

    this.args = [
      `--web.listen-address=:${this.port}`,
      ...(this.routePrefix ? [`--web.route-prefix=${this.routePrefix}`] : []),
      ...(props.telemetryPath ? [`--web.telemetry-path=${telemetryPath}`] : []),
      ...(persistence ? [`--persistence.file=${DATA_DIR}/pushgateway.data`, `--persistence.interval=${toGoDuration(persistenceInterval)}`] : []),
      ...(props.enableLifecycle ? ['--web.enable-lifecycle'] : []),
      ...(props.enableAdminApi ? ['--web.enable-admin-api'] : []),
      ...(web ? [`--web.config.file=${WEB_CONFIG_DIR}/web-config.yml`] : []),
      ...(props.extraArgs ?? []),
    ];

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { ...metadata(this.name), annotations: props.serviceAccountAnnotations },
      // The Pushgateway never calls the Kubernetes API.
      automountServiceAccountToken: false,
    });

    let claimName: string | undefined;
    const claimSpec: k8s.PersistentVolumeClaimSpec = {
      accessModes: [accessMode],
      storageClassName: props.persistenceStorageClass,
      resources: { requests: { storage: toQuantity(props.persistenceSize ?? Size.gibibytes(2)) } },
    };
    if (persistence && !ha) {
      claimName = props.persistenceExistingClaim ?? `${this.name}-data`;
      if (!props.persistenceExistingClaim) {
        new k8s.KubePersistentVolumeClaim(this, 'Data', { metadata: metadata(claimName), spec: claimSpec });
      }
    }

    // The web config guards every endpoint, probes included. Rather than put a password into the
    // pod spec (as the Helm chart does), a Pushgateway with basic auth is probed on its TCP port.
    const probe = (path: string, failureThreshold: number): k8s.Probe => ({
      ...(this.clientAuth.username
        ? { tcpSocket: { port: k8s.IntOrString.fromString('http') } }
        : { httpGet: { path: `${this.routePrefix}${path}`, port: k8s.IntOrString.fromString('http'), scheme: tls ? 'HTTPS' : undefined } }),
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold,
    });
    const volumes: k8s.Volume[] = [
      ...(claimName ? [{ name: 'data', persistentVolumeClaim: { claimName } }] : []),
      ...(web ? [{ name: 'web-config', secret: { secretName: web.secretName, items: [{ key: web.secretKey ?? 'web-config.yml', path: 'web-config.yml' }] } }] : []),
      ...(web?.tlsSecretName ? [{ name: 'tls', secret: { secretName: web.tlsSecretName } }] : []),
      ...(props.extraVolumes ?? []),
    ];
    const volumeMounts: k8s.VolumeMount[] = [
      // With replicas, `data` is the StatefulSet's volumeClaimTemplate: each replica mounts its own claim.
      ...(persistence ? [{ name: 'data', mountPath: DATA_DIR }] : []),
      ...(web ? [{ name: 'web-config', mountPath: WEB_CONFIG_DIR, readOnly: true }] : []),
      ...(web?.tlsSecretName ? [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] : []),
      ...(props.extraVolumeMounts ?? []),
    ];

    const template: k8s.PodTemplateSpec = {
      metadata: {
        labels: { ...props.podLabels, ...this.labels },
        annotations: props.podAnnotations,
      },
      spec: {
        serviceAccountName: this.name,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: NOBODY,
          runAsGroup: NOBODY,
          fsGroup: NOBODY,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        nodeSelector: { 'kubernetes.io/os': 'linux', ...props.nodeSelector },
        tolerations: props.tolerations,
        affinity: props.affinity,
        topologySpreadConstraints: this.spreadConstraints(props.topologySpreadConstraints, ha),
        priorityClassName: props.priorityClassName,
        imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
        // Long enough to drain the write queue and write the persistence file on SIGTERM.
        terminationGracePeriodSeconds: 30,
        containers: [{
          name: 'pushgateway',
          image,
          imagePullPolicy: props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
          args: this.args,
          env: props.env ? Object.keys(props.env).sort().map((name) => ({ name, value: props.env![name] })) : undefined,
          ports: [{ name: 'http', containerPort: this.port, protocol: 'TCP' }],
          // The persistence file is read before the HTTP server starts; a large one takes a while.
          startupProbe: { ...probe('/-/healthy', 30), periodSeconds: 5 },
          livenessProbe: probe('/-/healthy', 6),
          readinessProbe: probe('/-/ready', 3),
          resources: toKubeResources(props.resources ?? {
            cpu: { request: Cpu.millis(50), limit: Cpu.millis(200) },
            memory: { request: Size.mebibytes(50), limit: Size.mebibytes(200) },
          }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NOBODY,
            runAsGroup: NOBODY,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumeMounts: volumeMounts.length ? volumeMounts : undefined,
        }],
        volumes: volumes.length ? volumes : undefined,
      },
    };

    if (ha) {
      this.statefulSet = new k8s.KubeStatefulSet(this, 'StatefulSet', {
        metadata: metadata(this.name),
        spec: {
          replicas,
          serviceName: headlessName,
          selector: { matchLabels: this.selectorLabels },
          // Replicas do not depend on each other: start and replace them all at once, not in order.
          podManagementPolicy: 'Parallel',
          template,
          // Claim templates cannot change after creation: no version label here, or every image upgrade would be refused.
          volumeClaimTemplates: persistence ? [{ metadata: { name: 'data', labels: this.selectorLabels }, spec: claimSpec }] : undefined,
        },
      });
    } else {
      this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
        metadata: metadata(this.name),
        spec: {
          replicas,
          selector: { matchLabels: this.selectorLabels },
          // A ReadWriteOnce volume cannot attach to the old and the new pod at once during a rolling update.
          strategy: { type: persistence ? 'Recreate' : 'RollingUpdate' },
          template,
        },
      });
    }

    const servicePorts: k8s.ServicePort[] = [{ name: 'http', port: this.port, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }];
    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { ...metadata(this.name), annotations: props.serviceAnnotations },
      spec: { type: props.serviceType ?? ServiceType.CLUSTER_IP, selector: this.selectorLabels, ports: servicePorts },
    });
    if (ha) {
      this.headlessService = new k8s.KubeService(this, 'HeadlessService', {
        metadata: metadata(headlessName, { [HEADLESS_LABEL]: 'true' }),
        spec: { clusterIp: 'None', selector: this.selectorLabels, ports: servicePorts },
      });
      const budget = props.disruptionBudget ?? { maxUnavailable: 1 };
      this.podDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
        metadata: metadata(this.name),
        spec: {
          selector: { matchLabels: this.selectorLabels },
          maxUnavailable: budget.maxUnavailable !== undefined ? k8s.IntOrString.fromNumber(budget.maxUnavailable) : undefined,
          minAvailable: budget.minAvailable !== undefined ? k8s.IntOrString.fromNumber(budget.minAvailable) : undefined,
          // A replica that is not ready serves nobody: evicting it must never hold up a node drain.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      });
    }

    this.serviceMonitor = new ServiceMonitor(this, 'ServiceMonitor', {
      metadata: metadata(this.name, { ...props.serviceMonitorLabels, ...this.flavour.monitorLabels() }),
      spec: {
        // The headless Service selects the same pods: the regular one alone gives one target per replica.
        selector: { matchLabels: this.selectorLabels, matchExpressions: ha ? [{ key: HEADLESS_LABEL, operator: 'DoesNotExist' }] : undefined },
        endpoints: [{
          port: 'http',
          path: `${this.routePrefix}${telemetryPath}`,
          // Without it every pushed `job` label would arrive as `exported_job`.
          honorLabels: true,
          interval: toPrometheusDuration(scrapeInterval),
          scrapeTimeout: props.scrapeTimeout ? toPrometheusDuration(props.scrapeTimeout) : undefined,
          scheme: tls ? ServiceMonitorSpecEndpointsScheme.HTTPS : undefined,
          tlsConfig: this.clientAuth.ca ? {
            ca: { secret: { name: this.clientAuth.ca.secretName, key: this.clientAuth.ca.key } },
            serverName: `${this.name}.${namespace}.svc`,
          } : undefined,
          basicAuth: this.clientAuth.username && this.clientAuth.password ? {
            username: { name: this.clientAuth.username.secretName, key: this.clientAuth.username.key },
            password: { name: this.clientAuth.password.secretName, key: this.clientAuth.password.key },
          } : undefined,
          relabelings: props.relabelings,
          metricRelabelings: props.metricRelabelings,
        }],
      },
    });

    const networkPolicy = props.networkPolicy ?? true;
    if (props.ingress) this.addIngress(props.ingress, networkPolicy, metadata);
    if (networkPolicy) {
      const pushers = [
        ...props.pushers ?? [PushgatewayPeer.podsWithLabels({ [Pushgateway.PUSHER_LABEL]: 'true' })],
        ...props.ingress?.controllerPeers ?? [],
      ];
      const prometheus = PushgatewayPeer.podsWithLabels(this.flavour.prometheusPodLabels(), this.flavour.namespace);
      new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: metadata(this.name),
        spec: {
          podSelector: { matchLabels: this.selectorLabels },
          policyTypes: ['Ingress'],
          ingress: [{
            from: [prometheus, ...pushers].map((peer) => peer._toKube()),
            ports: [{ port: k8s.IntOrString.fromNumber(this.port), protocol: 'TCP' }],
          }],
        },
      });
    }

    if (this.flavour.needsDiscoveryRbac(namespace)) {
      this.addPrometheusDiscoveryRbac(metadata);
    }
  }

  private addIngress(ingress: PushgatewayIngress, networkPolicy: boolean, metadata: (name: string) => k8s.ObjectMeta): void {
    if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(ingress.host)) {
      throw invalidInput(this, 'ingress.host', ingress.host, 'use a DNS host name such as "pushgateway.example.com"');
    }
    if (networkPolicy && !ingress.controllerPeers?.length) {
      throw invalidInput(this, 'ingress.controllerPeers', ingress.controllerPeers ?? null,
        'name the ingress controller pods the NetworkPolicy must admit, e.g. [PushgatewayPeer.allPodsInNamespace("ingress-nginx")], or set networkPolicy: false');
    }
    if (ingress.tlsSecretName !== undefined) checkDnsLabel(this, 'ingress.tlsSecretName', ingress.tlsSecretName, 253);
    new k8s.KubeIngress(this, 'Ingress', {
      metadata: { ...metadata(this.name), annotations: ingress.annotations },
      spec: {
        ingressClassName: ingress.className,
        tls: ingress.tlsSecretName ? [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }] : undefined,
        rules: [{
          host: ingress.host,
          http: {
            paths: [{
              path: this.routePrefix || '/',
              pathType: 'Prefix',
              backend: { service: { name: this.name, port: { name: 'http' } } },
            }],
          },
        }],
      },
    });
  }

  private checkReplicaProps(props: PushgatewayProps): void {
    // StatefulSet pods carry a controller-revision-hash label `<name>-<10 characters>`, at most 63 long.
    if (this.name.length > 52) {
      throw invalidInput(this, 'name', this.name, 'with replicas > 1 use at most 52 characters: the StatefulSet labels its pods with the name plus an 11-character hash');
    }
    if (props.persistenceExistingClaim !== undefined) {
      throw invalidInput(this, 'persistenceExistingClaim', props.persistenceExistingClaim,
        'with replicas > 1 each replica gets its own claim (replicas must not share a persistence file): drop persistenceExistingClaim, and see "Moving an existing single-replica install to replicas" in the README to carry its data over');
    }
    const replicas = props.replicas ?? 1;
    const budget = props.disruptionBudget;
    if (!budget) return;
    if ((budget.maxUnavailable === undefined) === (budget.minAvailable === undefined)) {
      throw invalidInput(this, 'disruptionBudget', budget, 'give exactly one of maxUnavailable and minAvailable');
    }
    if (budget.maxUnavailable !== undefined && (!Number.isInteger(budget.maxUnavailable) || budget.maxUnavailable < 1 || budget.maxUnavailable >= replicas)) {
      throw invalidInput(this, 'disruptionBudget.maxUnavailable', budget.maxUnavailable,
        `use a whole number from 1 to ${replicas - 1}: 0 blocks every node drain, ${replicas} lets a drain take every replica at once`);
    }
    if (budget.minAvailable !== undefined && (!Number.isInteger(budget.minAvailable) || budget.minAvailable < 1 || budget.minAvailable >= replicas)) {
      throw invalidInput(this, 'disruptionBudget.minAvailable', budget.minAvailable,
        `use a whole number from 1 to ${replicas - 1}: ${replicas} or more blocks every node drain, 0 lets a drain take every replica at once`);
    }
  }

  /** The replicas' default spread: never two on one node, and over zones where the volumes allow it. */
  private spreadConstraints(given: k8s.TopologySpreadConstraint[] | undefined, ha: boolean): k8s.TopologySpreadConstraint[] | undefined {
    if (given) {
      given.forEach((constraint, i) => this.checkSpreadConstraint(`topologySpreadConstraints[${i}]`, constraint));
      return given.length ? given : undefined;
    }
    if (!ha) return undefined;
    const spread = (topologyKey: string, whenUnsatisfiable: string): k8s.TopologySpreadConstraint => ({
      maxSkew: 1, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: this.selectorLabels },
    });
    return [spread('kubernetes.io/hostname', 'DoNotSchedule'), spread('topology.kubernetes.io/zone', 'ScheduleAnyway')];
  }

  private checkSpreadConstraint(field: string, constraint: k8s.TopologySpreadConstraint): void {
    if (!Number.isInteger(constraint.maxSkew) || constraint.maxSkew < 1) {
      throw invalidInput(this, `${field}.maxSkew`, constraint.maxSkew, 'use a whole number of at least 1 (1 spreads as evenly as possible)');
    }
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(constraint.whenUnsatisfiable)) {
      throw invalidInput(this, `${field}.whenUnsatisfiable`, constraint.whenUnsatisfiable, 'use "DoNotSchedule" or "ScheduleAnyway"');
    }
    if (!constraint.topologyKey) {
      throw invalidInput(this, `${field}.topologyKey`, constraint.topologyKey, 'name a node label, e.g. "kubernetes.io/hostname" or "topology.kubernetes.io/zone"');
    }
    if (!constraint.labelSelector) {
      throw invalidInput(this, `${field}.labelSelector`, null,
        `select the Pushgateway pods, e.g. { matchLabels: { "app.kubernetes.io/name": "${this.name}" } }: without a selector the constraint counts no pods`);
    }
  }

  private checkServiceProps(props: PushgatewayProps): void {
    for (const [field, annotations] of Object.entries({ serviceAnnotations: props.serviceAnnotations, serviceAccountAnnotations: props.serviceAccountAnnotations })) {
      // Annotation keys follow the label key rules; their values are free text.
      for (const key of Object.keys(annotations ?? {})) checkKubernetesLabels(this, field, { [key]: '' });
    }
    if (props.serviceMonitorLabels) checkKubernetesLabels(this, 'serviceMonitorLabels', props.serviceMonitorLabels);
    const owned = [...Object.keys(this.selectorLabels), 'app.kubernetes.io/version', ...Object.keys(this.flavour.monitorLabels())];
    const taken = Object.keys(props.serviceMonitorLabels ?? {}).find((key) => owned.includes(key));
    if (taken) {
      throw invalidInput(this, 'serviceMonitorLabels key', taken,
        'the construct sets this label (from name, partOf, image or the flavour, e.g. KubePrometheusFlavour.kubePrometheusStack({ release })): drop it here');
    }
    const type = props.serviceType ?? ServiceType.CLUSTER_IP;
    if (type === ServiceType.EXTERNAL_NAME) {
      throw invalidInput(this, 'serviceType', type, 'an ExternalName Service points elsewhere and selects no pods: use CLUSTER_IP, NODE_PORT or LOAD_BALANCER');
    }
    if (type !== ServiceType.CLUSTER_IP && (props.networkPolicy ?? true) && !(props.pushers ?? []).some((peer) => peer._isAddressRange())) {
      throw invalidInput(this, 'serviceType', type,
        'clients reaching a NodePort or LoadBalancer Service come from outside the cluster, which the NetworkPolicy blocks: add PushgatewayPeer.ipBlock("<their CIDR>") to pushers, or set networkPolicy: false');
    }
    for (const [field, list] of Object.entries({ relabelings: props.relabelings, metricRelabelings: props.metricRelabelings })) {
      (list ?? []).forEach((rule, i) => this.checkRelabeling(`${field}[${i}]`, rule));
    }
  }

  /** The checks Prometheus makes when it loads the scrape configuration, which would otherwise fail far from here. */
  private checkRelabeling(field: string, rule: { readonly action?: string; readonly targetLabel?: string; readonly modulus?: number }): void {
    const action = (rule.action ?? 'replace').toLowerCase();
    if (['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && !rule.targetLabel) {
      throw invalidInput(this, `${field}.targetLabel`, rule.targetLabel ?? null, `the ${action} action writes to a label: set targetLabel`);
    }
    if (action === 'hashmod' && !(Number.isInteger(rule.modulus) && rule.modulus! > 0)) {
      throw invalidInput(this, `${field}.modulus`, rule.modulus ?? null, 'the hashmod action needs a modulus: a whole number above 0');
    }
  }

  private checkExtraVolumes(volumes: k8s.Volume[], mounts: k8s.VolumeMount[]): void {
    const names = new Set<string>();
    for (const volume of volumes) {
      checkDnsLabel(this, 'extraVolumes name', volume.name);
      if (volume.name in MANAGED_VOLUMES || names.has(volume.name)) {
        throw invalidInput(this, 'extraVolumes name', volume.name,
          `use a name of its own: ${Object.keys(MANAGED_VOLUMES).join(', ')} are the construct's, and each extra volume needs a different name`);
      }
      const types = Object.keys(volume).filter((key) => key !== 'name' && (volume as any)[key] !== undefined);
      if (types.length !== 1 || !RESTRICTED_VOLUME_TYPES.includes(types[0])) {
        throw invalidInput(this, `extraVolumes "${volume.name}" type`, types.join(', ') || null,
          `give one volume type the Pod Security "restricted" profile allows, as the rest of the pod does: ${RESTRICTED_VOLUME_TYPES.join(', ')}`);
      }
      names.add(volume.name);
    }
    const paths = new Set<string>();
    for (const mount of mounts) {
      if (paths.has(mount.mountPath)) {
        throw invalidInput(this, 'extraVolumeMounts mountPath', mount.mountPath, 'mount each path once: the API server refuses a second mount at the same path');
      }
      paths.add(mount.mountPath);
      if (!names.has(mount.name)) {
        throw invalidInput(this, 'extraVolumeMounts name', mount.name, `mount one of extraVolumes (${[...names].join(', ') || 'none given'}): add the volume to extraVolumes`);
      }
      const clash = Object.values(MANAGED_VOLUMES).find((dir) => mount.mountPath === dir || mount.mountPath.startsWith(`${dir}/`));
      if (clash || !mount.mountPath.startsWith('/')) {
        throw invalidInput(this, 'extraVolumeMounts mountPath', mount.mountPath,
          `use an absolute path outside ${Object.values(MANAGED_VOLUMES).join(', ')}, which the construct mounts`);
      }
    }
  }

  private checkWebConfig(web: PushgatewayWebConfig): void {
    const names = {
      'webConfig.secretName': web.secretName,
      'webConfig.tlsSecretName': web.tlsSecretName,
      'webConfig.caSecretName': web.caSecretName,
      'webConfig.clientSecretName': web.clientSecretName,
    };
    for (const [field, value] of Object.entries(names)) {
      if (value !== undefined) checkDnsLabel(this, field, value, 253);
    }
    if (web.caSecretName && !web.tlsSecretName) {
      throw invalidInput(this, 'webConfig.caSecretName', web.caSecretName, 'a CA is only used with TLS: set webConfig.tlsSecretName too, or drop caSecretName');
    }
  }

  /**
   * kube-prometheus's Prometheus may only discover targets in a few namespaces; elsewhere it needs
   * the same Role its jsonnet would generate for an extra namespace, bound to its ServiceAccount.
   */
  private addPrometheusDiscoveryRbac(metadata: (name: string) => k8s.ObjectMeta): void {
    const name = `${this.flavour.prometheusServiceAccount}-${this.name}`;
    const role = new k8s.KubeRole(this, 'PrometheusDiscoveryRole', {
      metadata: metadata(name),
      rules: [
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'PrometheusDiscoveryRoleBinding', {
      metadata: metadata(name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name: this.flavour.prometheusServiceAccount, namespace: this.flavour.namespace }],
    });
  }
}

/** A Pushgateway deployed elsewhere, known by its attributes (see `Pushgateway.fromPushgatewayAttributes`). */
class ImportedPushgateway extends Construct implements IPushgateway {
  public readonly name: string;
  public readonly namespace: string;
  public readonly port: number;
  public readonly scheme: string;
  public readonly routePrefix: string;
  public readonly url: string;
  public readonly replicas: number;
  public readonly replicaUrls: string[];
  public readonly clientAuth: PushgatewayClientAuth;
  public readonly flavour: KubePrometheusFlavour;
  public readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, attrs: PushgatewayAttributes) {
    super(scope, id);
    checkDnsLabel(this, 'name', attrs.name, 53);
    checkDnsLabel(this, 'namespace', attrs.namespace);
    this.name = attrs.name;
    this.namespace = attrs.namespace;
    this.port = attrs.port ?? 9091;
    checkPort(this, 'port', this.port);
    this.scheme = attrs.scheme ?? 'http';
    if (!['http', 'https'].includes(this.scheme)) throw invalidInput(this, 'scheme', this.scheme, 'use "http" or "https"');
    this.routePrefix = attrs.routePrefix ?? '';
    if (attrs.routePrefix !== undefined) {
      checkUrlPath(this, 'routePrefix', attrs.routePrefix);
      if (attrs.routePrefix === '/') this.routePrefix = '';
    }
    this.url = `${this.scheme}://${this.name}.${this.namespace}.svc:${this.port}${this.routePrefix}`;
    this.replicas = attrs.replicas ?? 1;
    if (!Number.isInteger(this.replicas) || this.replicas < 1) throw invalidInput(this, 'replicas', this.replicas, 'use a whole number of at least 1');
    this.replicaUrls = attrs.replicaUrls ? [...attrs.replicaUrls] : [this.url];
    if (this.replicaUrls.length !== this.replicas) {
      throw invalidInput(this, 'replicaUrls', this.replicaUrls, `give one URL per replica (${this.replicas})`);
    }
    this.clientAuth = attrs.clientAuth ?? {};
    this.flavour = attrs.flavour ?? KubePrometheusFlavour.kubePrometheus();
    const partOf = attrs.partOf ?? DEFAULT_PART_OF;
    checkLabelValue(this, 'partOf', partOf);
    this.labels = objectLabels({ name: this.name, component: 'exporter', partOf });
  }
}
