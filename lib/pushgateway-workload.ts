import { Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu, ImagePullPolicy, k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { toKubeResources } from './kube-quantity';
import { NOBODY, RESTRICTED_RAW_CONTAINER_CONTEXT } from './pod-security';
import { toGoDuration } from './prometheus-duration';
import { webConfigArgs, webConfigMounts, webConfigVolumes } from './pushgateway-auth';
import { DATA_DIR, ResolvedPushgateway } from './pushgateway-resolve';
import { upstreamPort } from './pushgateway-write-scope';
import { addWriteScopeProxy, upstreamProbe, WriteScopePod, WriteScopeTenants } from './pushgateway-write-scope-proxy';

// The Pushgateway pods: their arguments, volumes, the pod template, and the Deployment (one
// replica) or StatefulSet (replicas) that runs them, with the claims and disruption budget.

// Sized for 10,000 groups (docs/benchmarks.md, "Pushgateway capacity"): each push and each scrape
// costs CPU in proportion to the groups held, and 15,000 groups stay below 75 % of the memory
// limit while the cleanup reads them.
const DEFAULT_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(50), limit: Cpu.millis(1000) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(384) },
};
// The Go runtime collects garbage harder as the heap nears GOMEMLIMIT, instead of growing into
// the container's limit and being killed; the rest of the limit is for memory Go does not count.
const GOMEMLIMIT_SHARE = 0.9;

/** The objects that run the Pushgateway: a Deployment with one replica, a StatefulSet with more. */
export interface PushgatewayWorkload {
  readonly deployment?: k8s.KubeDeployment;
  readonly statefulSet?: k8s.KubeStatefulSet;
}

/** The ServiceAccount, the data claim of a single replica, and the Deployment or StatefulSet. */
export function addWorkload(scope: Construct, r: ResolvedPushgateway, tenants: WriteScopeTenants): PushgatewayWorkload {
  const props = r.props;
  new k8s.KubeServiceAccount(scope, 'ServiceAccount', {
    metadata: { ...r.metadata(r.name), annotations: props.serviceAccountAnnotations },
    // The Pushgateway never calls the Kubernetes API.
    automountServiceAccountToken: false,
  });

  let claimName: string | undefined;
  if (r.persistence && !r.ha) {
    claimName = props.persistenceExistingClaim ?? `${r.name}-data`;
    if (!props.persistenceExistingClaim) {
      new k8s.KubePersistentVolumeClaim(scope, 'Data', { metadata: r.metadata(claimName), spec: r.claimSpec });
    }
  }

  const proxy = r.props.writeScope && addWriteScopeProxy(scope, r, r.props.writeScope, tenants);
  const template = podTemplate(r, claimName, proxy);
  if (r.ha) {
    const statefulSet = new k8s.KubeStatefulSet(scope, 'StatefulSet', {
      metadata: r.metadata(r.name),
      spec: {
        replicas: r.replicas,
        serviceName: r.headlessName,
        selector: { matchLabels: r.selectorLabels },
        // Replicas do not depend on each other: start and replace them all at once, not in order.
        podManagementPolicy: 'Parallel',
        template,
        // Claim templates cannot change after creation: no version label here, or every image upgrade would be refused.
        volumeClaimTemplates: r.persistence ? [{ metadata: { name: 'data', labels: r.selectorLabels }, spec: r.claimSpec }] : undefined,
      },
    });
    return { statefulSet };
  }
  const deployment = new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: r.metadata(r.name),
    spec: {
      replicas: r.replicas,
      selector: { matchLabels: r.selectorLabels },
      // A ReadWriteOnce volume cannot attach to the old and the new pod at once during a rolling update.
      strategy: { type: r.persistence ? 'Recreate' : 'RollingUpdate' },
      template,
    },
  });
  return { deployment };
}

/** The PodDisruptionBudget of the replicas. */
export function addDisruptionBudget(scope: Construct, r: ResolvedPushgateway): k8s.KubePodDisruptionBudget {
  const budget = r.props.disruptionBudget ?? { maxUnavailable: 1 };
  return new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
    metadata: r.metadata(r.name),
    spec: {
      selector: { matchLabels: r.selectorLabels },
      maxUnavailable: budget.maxUnavailable !== undefined ? k8s.IntOrString.fromNumber(budget.maxUnavailable) : undefined,
      minAvailable: budget.minAvailable !== undefined ? k8s.IntOrString.fromNumber(budget.minAvailable) : undefined,
      // A replica that is not ready serves nobody: evicting it must never hold up a node drain.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

function containerArgs(r: ResolvedPushgateway): string[] {
  const props = r.props;
  return [
    // Behind the write-scope proxy, on 127.0.0.1 only: no other pod can bypass the proxy.
    r.props.writeScope ? `--web.listen-address=127.0.0.1:${upstreamPort(r.port)}` : `--web.listen-address=:${r.port}`,
    ...(r.routePrefix ? [`--web.route-prefix=${r.routePrefix}`] : []),
    ...(props.telemetryPath ? [`--web.telemetry-path=${r.telemetryPath}`] : []),
    ...(r.persistence ? [`--persistence.file=${DATA_DIR}/pushgateway.data`, `--persistence.interval=${toGoDuration(r.persistenceInterval)}`] : []),
    ...(props.enableLifecycle ? ['--web.enable-lifecycle'] : []),
    ...(props.enableAdminApi ? ['--web.enable-admin-api'] : []),
    ...webConfigArgs(props.webConfig),
    ...(props.extraArgs ?? []),
  ];
}

/** `claimName`: the claim a single replica mounts at /data; with replicas each mounts its claim template's. */
function podTemplate(r: ResolvedPushgateway, claimName: string | undefined, proxy: WriteScopePod | undefined): k8s.PodTemplateSpec {
  const props = r.props;
  const volumes: k8s.Volume[] = [
    ...(claimName ? [{ name: 'data', persistentVolumeClaim: { claimName } }] : []),
    ...webConfigVolumes(props.webConfig),
    ...proxy?.volumes ?? [],
    ...(props.extraVolumes ?? []),
  ];
  const volumeMounts: k8s.VolumeMount[] = [
    ...(r.persistence ? [{ name: 'data', mountPath: DATA_DIR }] : []),
    ...webConfigMounts(props.webConfig),
    ...(props.extraVolumeMounts ?? []),
  ];
  return {
    metadata: {
      labels: { ...props.podLabels, ...r.labels },
      annotations: proxy ? { ...props.podAnnotations, ...proxy.annotations } : props.podAnnotations,
    },
    spec: {
      serviceAccountName: r.name,
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
      topologySpreadConstraints: spreadConstraints(r),
      priorityClassName: props.priorityClassName,
      imagePullSecrets: props.imagePullSecrets?.map((name) => ({ name })),
      // Long enough to drain the write queue and write the persistence file on SIGTERM.
      terminationGracePeriodSeconds: 30,
      containers: [{
        name: 'pushgateway',
        image: r.image,
        imagePullPolicy: props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
        args: containerArgs(r),
        env: containerEnv(r),
        ports: proxy ? undefined : r.ports.map(({ name, port }) => ({ name, containerPort: port, protocol: 'TCP' })),
        // The persistence file is read before the HTTP server starts; a large one takes a while.
        startupProbe: { ...probe(r, '/-/healthy', 30), periodSeconds: 5 },
        livenessProbe: probe(r, '/-/healthy', 6),
        readinessProbe: probe(r, '/-/ready', 3),
        resources: toKubeResources(resources(r)),
        securityContext: RESTRICTED_RAW_CONTAINER_CONTEXT,
        volumeMounts: volumeMounts.length ? volumeMounts : undefined,
      }, ...proxy ? [proxy.container] : []],
      volumes: volumes.length ? volumes : undefined,
    },
  };
}

// The web config guards every endpoint, probes included. Rather than put a password into the
// pod spec (as the Helm chart does), a Pushgateway with basic auth is probed on its TCP port.
function probe(r: ResolvedPushgateway, path: string, failureThreshold: number): k8s.Probe {
  if (r.props.writeScope) return upstreamProbe(r, path, failureThreshold);
  const port = k8s.IntOrString.fromString(r.ports[0].name);
  return {
    ...(r.clientAuth.basicAuth
      ? { tcpSocket: { port } }
      : { httpGet: { path: `${r.routePrefix}${path}`, port, scheme: r.tls ? 'HTTPS' : undefined } }),
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold,
  };
}

/** The replicas' default spread: never two on one node, and over zones where the volumes allow it. */
function spreadConstraints(r: ResolvedPushgateway): k8s.TopologySpreadConstraint[] | undefined {
  const given = r.props.topologySpreadConstraints;
  if (given) return given.length ? given : undefined;
  if (!r.ha) return undefined;
  const spread = (topologyKey: string, whenUnsatisfiable: string): k8s.TopologySpreadConstraint => ({
    maxSkew: 1, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: r.selectorLabels },
  });
  return [spread('kubernetes.io/hostname', 'DoNotSchedule'), spread('topology.kubernetes.io/zone', 'ScheduleAnyway')];
}

function resources(r: ResolvedPushgateway): ContainerResources {
  return r.props.resources ?? DEFAULT_RESOURCES;
}

/** `env` as given, with GOMEMLIMIT at 90 % of the memory limit unless `env` sets it. */
function containerEnv(r: ResolvedPushgateway): k8s.EnvVar[] | undefined {
  const limit = resources(r).memory?.limit;
  const env: Record<string, string> = {
    ...(limit ? { GOMEMLIMIT: `${Math.floor(limit.toKibibytes({ rounding: SizeRoundingBehavior.FLOOR }) / 1024 * GOMEMLIMIT_SHARE)}MiB` } : {}),
    ...r.props.env,
  };
  const names = Object.keys(env).sort();
  return names.length ? names.map((name) => ({ name, value: env[name] })) : undefined;
}
