import { Duration, Size } from 'cdk8s';
import { ContainerResources, ImagePullPolicy, k8s, ServiceType } from 'cdk8s-plus-27';
import { ServiceMonitorSpecEndpointsMetricRelabelings, ServiceMonitorSpecEndpointsRelabelings } from '../imports/monitoring.coreos.com';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { PushgatewayPeer } from './pushgateway-peer';
import { PushgatewayIngress, PushgatewayWebConfig } from './pushgateway-web-config';
import { PushgatewayWriteScope } from './pushgateway-write-scope';

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
   * Enable `PUT /-/quit` (`--web.enable-lifecycle`). Refused while pushers from other namespaces
   * reach the Pushgateway, unless `writeScope` keeps it out of their reach.
   * @default false
   */
  readonly enableLifecycle?: boolean;
  /**
   * Enable `PUT /api/v1/admin/wipe` (`--web.enable-admin-api`). Refused while pushers from other
   * namespaces reach the Pushgateway, unless `writeScope` keeps it out of their reach (an admin
   * then uses `kubectl port-forward`).
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
   * Write scope per namespace: an authorizing proxy in the pod gives each namespace its own
   * credentials, which write only the groups of the jobs declared in that namespace (see
   * docs/security.md). Replaces `webConfig`.
   * @default - no write scope: whoever may push writes any group
   */
  readonly writeScope?: PushgatewayWriteScope;
  /**
   * An Ingress for pushers outside the cluster. Refused without basic auth (`webConfig` with
   * `clientSecretName`, or `writeScope`) unless `ingress.allowUnauthenticatedIngress` is set: anyone
   * who can push can write any series into Prometheus.
   * @default - no Ingress
   */
  readonly ingress?: PushgatewayIngress;
  /**
   * CPU and memory requests and limits of the container. The memory limit also sets GOMEMLIMIT
   * (90 % of it, unless `env` sets it). The defaults hold 10,000 groups (docs/benchmarks.md).
   * @default - requests 50m / 128Mi, limits 1 CPU / 384Mi
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
   * Who else may push, besides the pods labelled `batch-monitoring.io/pusher: "true"`
   * (`Pushgateway.PUSHER_LABEL`) in the Pushgateway's namespace, in the namespaces of the jobs
   * declared against it, and in namespaces labelled `batch-monitoring.io/pushers: "true"`; e.g.
   * `PushgatewayPeer.ipBlock(...)`, or `PushgatewayPeer.anyNamespace()` to admit pusher-labelled
   * pods of every namespace. Needs the NetworkPolicy.
   * @default - none
   */
  readonly pushers?: PushgatewayPeer[];
  /**
   * Whether the NetworkPolicy admits pusher-labelled pods of namespaces an admin labels
   * `batch-monitoring.io/pushers: "true"` (`Pushgateway.PUSHERS_NAMESPACE_LABEL`): namespaces of
   * jobs declared in other apps. Tenants cannot label their own namespace under the usual RBAC.
   * @default true
   */
  readonly admitLabelledNamespaces?: boolean;
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
   * @default - GOMEMLIMIT at 90 % of the memory limit
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
