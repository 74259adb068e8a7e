import { Chart, Duration, Size } from 'cdk8s';
import { k8s, ServiceType } from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { PUSHERS_NAMESPACE_LABEL } from './names';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { toQuantity } from './kube-quantity';
import { DEFAULT_PART_OF, imageVersion, ObjectIdentity, objectLabels, selectorLabels } from './object-labels';
import { checkWebConfig, clientAuthOf, TLS_DIR, WEB_CONFIG_DIR, writeScopeClientAuth } from './pushgateway-auth';
import { PushgatewayProps, PushgatewayVolumeAccessMode } from './pushgateway-props';
import { IngressController, PushgatewayClientAuth, PushgatewayIngress } from './pushgateway-web-config';
import { checkWriteScope, WRITE_SCOPE_VOLUMES } from './pushgateway-write-scope';
import { checkDnsLabel, checkKubernetesLabels, checkLabelValue, checkPort, checkPositive, checkUrlPath, invalidInput } from './validation';

// The one step from PushgatewayProps to what the objects are built from: every check and every
// default is here, so the builders read settled values only.

const DEFAULT_IMAGE = 'quay.io/prometheus/pushgateway:v1.11.3';
export const DATA_DIR = '/data';
// Marks the headless Service, which the ServiceMonitor must not select: it would scrape every replica twice.
export const HEADLESS_LABEL = 'batch-monitoring.io/headless';
// The volume types Pod Security "restricted" admits.
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const MANAGED_VOLUMES: Record<string, string> = { data: DATA_DIR, 'web-config': WEB_CONFIG_DIR, tls: TLS_DIR };
// Every volume name of the pod the construct defines (the write-scope proxy's are mounted in its own container).
const MANAGED_VOLUME_NAMES = [...Object.keys(MANAGED_VOLUMES), ...Object.keys(WRITE_SCOPE_VOLUMES)];
const MANAGED_FLAGS = [
  '--web.listen-address', '--web.route-prefix', '--web.telemetry-path', '--web.enable-lifecycle',
  '--web.enable-admin-api', '--persistence.file', '--persistence.interval', '--web.config.file',
];

/** A port the Pushgateway listens on: the container port, a Service port and a NetworkPolicy port each. */
export interface PushgatewayPort {
  readonly name: string;
  readonly port: number;
}

/** PushgatewayProps checked and with their defaults; `props` keeps the settings passed through as given. */
export interface ResolvedPushgateway {
  readonly props: PushgatewayProps;
  readonly name: string;
  readonly namespace: string;
  readonly flavour: KubePrometheusFlavour;
  readonly image: string;
  readonly port: number;
  /** Every port of the pod; `http` (port) first, which probes, the Ingress and the ServiceMonitor use. */
  readonly ports: PushgatewayPort[];
  readonly routePrefix: string;
  readonly telemetryPath: string;
  readonly replicas: number;
  /** Whether the Pushgateway runs replicated: a StatefulSet, a headless Service, a disruption budget. */
  readonly ha: boolean;
  readonly headlessName: string;
  readonly persistence: boolean;
  readonly persistenceInterval: Duration;
  readonly claimSpec: k8s.PersistentVolumeClaimSpec;
  readonly scrapeInterval: Duration;
  readonly networkPolicy: boolean;
  readonly tls: boolean;
  readonly scheme: string;
  readonly clientAuth: PushgatewayClientAuth;
  readonly url: string;
  readonly replicaUrls: string[];
  readonly labels: Record<string, string>;
  readonly selectorLabels: Record<string, string>;
  /** Metadata of an object named `name`, in the namespace, with the labels. */
  metadata(name: string, extraLabels?: Record<string, string>): k8s.ObjectMeta;
}

export function resolvePushgatewayProps(scope: IConstruct, props: PushgatewayProps): ResolvedPushgateway {
  const name = props.name ?? 'pushgateway';
  checkDnsLabel(scope, 'name', name, 53);
  const namespace = props.namespace ?? Chart.of(scope).namespace;
  if (!namespace) {
    throw invalidInput(scope, 'namespace', namespace,
      'set a namespace on the chart (`new Chart(app, id, { namespace: "monitoring" })`) or in props.namespace, so that the Pushgateway URL is known');
  }
  checkDnsLabel(scope, 'namespace', namespace);
  const flavour = props.flavour ?? KubePrometheusFlavour.kubePrometheus();
  const port = props.port ?? 9091;
  checkPort(scope, 'port', port);
  const routePrefix = routePrefixOf(scope, props.routePrefix);
  const telemetryPath = props.telemetryPath ?? '/metrics';
  checkUrlPath(scope, 'telemetryPath', telemetryPath);
  const image = props.image ?? DEFAULT_IMAGE;
  if (!image.trim() || /\s/.test(image)) throw invalidInput(scope, 'image', image, 'use an image reference such as "quay.io/prometheus/pushgateway:v1.11.3"');

  const persistence = props.persistence ?? true;
  const replicas = props.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw invalidInput(scope, 'replicas', replicas,
      'use a whole number of at least 1 (1 for a single Pushgateway, 2 or more for high availability): with 0 every push fails');
  }
  const ha = replicas > 1;
  if (ha) checkReplicaProps(scope, name, props);
  if (!ha && props.disruptionBudget) {
    throw invalidInput(scope, 'disruptionBudget', props.disruptionBudget,
      'a PodDisruptionBudget for a single replica either blocks every node drain or allows anything: drop it, or set replicas: 2 or more');
  }
  const persistenceInterval = props.persistenceInterval ?? Duration.minutes(5);
  checkPositive(scope, 'persistenceInterval', persistenceInterval);
  for (const arg of props.extraArgs ?? []) {
    const flag = arg.split('=')[0];
    if (MANAGED_FLAGS.includes(flag)) {
      throw invalidInput(scope, 'extraArgs', arg, `remove it: ${flag} is set by the construct; use the matching prop (e.g. routePrefix, persistenceInterval, enableLifecycle)`);
    }
  }
  const scrapeInterval = props.scrapeInterval ?? Duration.seconds(15);
  checkPositive(scope, 'scrapeInterval', scrapeInterval);
  if (props.scrapeTimeout) {
    checkPositive(scope, 'scrapeTimeout', props.scrapeTimeout);
    if (props.scrapeTimeout.toMilliseconds() > scrapeInterval.toMilliseconds()) {
      throw invalidInput(scope, 'scrapeTimeout', props.scrapeTimeout.toHumanString(),
        `use at most scrapeInterval (${scrapeInterval.toHumanString()}); Prometheus refuses a longer timeout`);
    }
  }
  for (const [field, labels] of Object.entries({ podLabels: props.podLabels, nodeSelector: props.nodeSelector })) {
    if (labels) checkKubernetesLabels(scope, field, labels);
  }
  if (props.persistenceExistingClaim !== undefined) checkDnsLabel(scope, 'persistenceExistingClaim', props.persistenceExistingClaim, 253);
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
      throw invalidInput(scope, unused, volumeSettings[unused], `it only applies with persistence: drop ${unused}, or set persistence: true`);
    }
  }
  const networkPolicy = props.networkPolicy ?? true;
  if (!networkPolicy && props.pushers) {
    throw invalidInput(scope, 'pushers', props.pushers.map((peer) => peer._toKube()),
      'pushers only take effect through the NetworkPolicy, which networkPolicy: false leaves out: drop pushers, or set networkPolicy: true');
  }
  if (!networkPolicy && props.admitLabelledNamespaces !== undefined) {
    throw invalidInput(scope, 'admitLabelledNamespaces', props.admitLabelledNamespaces,
      'it only takes effect through the NetworkPolicy, which networkPolicy: false leaves out: drop admitLabelledNamespaces, or set networkPolicy: true');
  }
  if (props.partOf !== undefined) checkLabelValue(scope, 'partOf', props.partOf);

  const identity: ObjectIdentity = { name, component: 'exporter', partOf: props.partOf ?? DEFAULT_PART_OF, version: imageVersion(image) };
  const labels = objectLabels(identity);
  const selector = selectorLabels(identity);
  const web = props.webConfig;
  if (web) checkWebConfig(scope, web);
  const writeScope = props.writeScope;
  if (writeScope) {
    checkWriteScope(scope, writeScope);
    if (web) {
      throw invalidInput(scope, 'webConfig', web.secretName,
        'with writeScope the proxy does basic auth and TLS, and the Pushgateway listens on 127.0.0.1 only: drop webConfig, and give its tlsSecretName to writeScope');
    }
  }
  checkServiceProps(scope, props, [...Object.keys(selector), 'app.kubernetes.io/version', ...Object.keys(flavour.monitorLabels())]);
  checkExtraVolumes(scope, props.extraVolumes ?? [], props.extraVolumeMounts ?? []);
  const claimSpec: k8s.PersistentVolumeClaimSpec = {
    accessModes: [props.persistenceAccessMode ?? PushgatewayVolumeAccessMode.READ_WRITE_ONCE],
    storageClassName: props.persistenceStorageClass,
    resources: { requests: { storage: toQuantity(props.persistenceSize ?? Size.gibibytes(2)) } },
  };
  (props.topologySpreadConstraints ?? []).forEach((constraint, i) => checkSpreadConstraint(scope, name, `topologySpreadConstraints[${i}]`, constraint));
  const tls = (web ?? writeScope)?.tlsSecretName !== undefined;
  if (props.ingress) checkIngress(scope, props.ingress, networkPolicy, web?.clientSecretName !== undefined || writeScope !== undefined, tls);
  if ((props.enableAdminApi || props.enableLifecycle) && !writeScope) checkAdminReach(scope, props, namespace);

  const scheme = tls ? 'https' : 'http';
  const url = pushgatewayUrl(scheme, `${name}.${namespace}.svc`, port, routePrefix);
  const headlessName = `${name}-headless`;
  return {
    props,
    name,
    namespace,
    flavour,
    image,
    port,
    ports: [{ name: 'http', port }],
    routePrefix,
    telemetryPath,
    replicas,
    ha,
    headlessName,
    persistence,
    persistenceInterval,
    claimSpec,
    scrapeInterval,
    networkPolicy,
    tls,
    scheme,
    clientAuth: writeScope ? writeScopeClientAuth(writeScope) : clientAuthOf(web),
    url,
    replicaUrls: ha
      ? Array.from({ length: replicas }, (_, i) => pushgatewayUrl(scheme, `${name}-${i}.${headlessName}.${namespace}.svc`, port, routePrefix))
      : [url],
    labels,
    selectorLabels: selector,
    metadata: (objectName, extraLabels = {}) => ({ name: objectName, namespace, labels: { ...labels, ...extraLabels } }),
  };
}

/** A route prefix as given, checked: `''` for none, and for `/`. */
export function routePrefixOf(scope: IConstruct, given: string | undefined): string {
  if (given === undefined) return '';
  checkUrlPath(scope, 'routePrefix', given);
  return given === '/' ? '' : given;
}

/** The base URL clients push to and the cleanup reads from: everything before `/metrics/job/...`. */
export function pushgatewayUrl(scheme: string, host: string, port: number, routePrefix: string): string {
  return `${scheme}://${host}:${port}${routePrefix}`;
}

function checkReplicaProps(scope: IConstruct, name: string, props: PushgatewayProps): void {
  // StatefulSet pods carry a controller-revision-hash label `<name>-<10 characters>`, at most 63 long.
  if (name.length > 52) {
    throw invalidInput(scope, 'name', name, 'with replicas > 1 use at most 52 characters: the StatefulSet labels its pods with the name plus an 11-character hash');
  }
  if (props.persistenceExistingClaim !== undefined) {
    throw invalidInput(scope, 'persistenceExistingClaim', props.persistenceExistingClaim,
      'with replicas > 1 each replica gets its own claim (replicas must not share a persistence file): drop persistenceExistingClaim, and see "Moving an existing single-replica install to replicas" in the README to carry its data over');
  }
  const replicas = props.replicas ?? 1;
  const budget = props.disruptionBudget;
  if (!budget) return;
  if ((budget.maxUnavailable === undefined) === (budget.minAvailable === undefined)) {
    throw invalidInput(scope, 'disruptionBudget', budget, 'give exactly one of maxUnavailable and minAvailable');
  }
  if (budget.maxUnavailable !== undefined && (!Number.isInteger(budget.maxUnavailable) || budget.maxUnavailable < 1 || budget.maxUnavailable >= replicas)) {
    throw invalidInput(scope, 'disruptionBudget.maxUnavailable', budget.maxUnavailable,
      `use a whole number from 1 to ${replicas - 1}: 0 blocks every node drain, ${replicas} lets a drain take every replica at once`);
  }
  if (budget.minAvailable !== undefined && (!Number.isInteger(budget.minAvailable) || budget.minAvailable < 1 || budget.minAvailable >= replicas)) {
    throw invalidInput(scope, 'disruptionBudget.minAvailable', budget.minAvailable,
      `use a whole number from 1 to ${replicas - 1}: ${replicas} or more blocks every node drain, 0 lets a drain take every replica at once`);
  }
}

function checkSpreadConstraint(scope: IConstruct, name: string, field: string, constraint: k8s.TopologySpreadConstraint): void {
  if (!Number.isInteger(constraint.maxSkew) || constraint.maxSkew < 1) {
    throw invalidInput(scope, `${field}.maxSkew`, constraint.maxSkew, 'use a whole number of at least 1 (1 spreads as evenly as possible)');
  }
  if (!['DoNotSchedule', 'ScheduleAnyway'].includes(constraint.whenUnsatisfiable)) {
    throw invalidInput(scope, `${field}.whenUnsatisfiable`, constraint.whenUnsatisfiable, 'use "DoNotSchedule" or "ScheduleAnyway"');
  }
  if (!constraint.topologyKey) {
    throw invalidInput(scope, `${field}.topologyKey`, constraint.topologyKey, 'name a node label, e.g. "kubernetes.io/hostname" or "topology.kubernetes.io/zone"');
  }
  if (!constraint.labelSelector) {
    throw invalidInput(scope, `${field}.labelSelector`, null,
      `select the Pushgateway pods, e.g. { matchLabels: { "app.kubernetes.io/name": "${name}" } }: without a selector the constraint counts no pods`);
  }
}

/** `owned`: the label keys the construct sets on the ServiceMonitor itself. */
function checkServiceProps(scope: IConstruct, props: PushgatewayProps, owned: string[]): void {
  for (const [field, annotations] of Object.entries({ serviceAnnotations: props.serviceAnnotations, serviceAccountAnnotations: props.serviceAccountAnnotations })) {
    // Annotation keys follow the label key rules; their values are free text.
    for (const key of Object.keys(annotations ?? {})) checkKubernetesLabels(scope, field, { [key]: '' });
  }
  if (props.serviceMonitorLabels) checkKubernetesLabels(scope, 'serviceMonitorLabels', props.serviceMonitorLabels);
  const taken = Object.keys(props.serviceMonitorLabels ?? {}).find((key) => owned.includes(key));
  if (taken) {
    throw invalidInput(scope, 'serviceMonitorLabels key', taken,
      'the construct sets this label (from name, partOf, image or the flavour, e.g. KubePrometheusFlavour.kubePrometheusStack({ release })): drop it here');
  }
  const type = props.serviceType ?? ServiceType.CLUSTER_IP;
  if (type === ServiceType.EXTERNAL_NAME) {
    throw invalidInput(scope, 'serviceType', type, 'an ExternalName Service points elsewhere and selects no pods: use CLUSTER_IP, NODE_PORT or LOAD_BALANCER');
  }
  if (type !== ServiceType.CLUSTER_IP && (props.networkPolicy ?? true) && !(props.pushers ?? []).some((peer) => peer._isAddressRange())) {
    throw invalidInput(scope, 'serviceType', type,
      'clients reaching a NodePort or LoadBalancer Service come from outside the cluster, which the NetworkPolicy blocks: add PushgatewayPeer.ipBlock("<their CIDR>") to pushers, or set networkPolicy: false');
  }
  for (const [field, list] of Object.entries({ relabelings: props.relabelings, metricRelabelings: props.metricRelabelings })) {
    (list ?? []).forEach((rule, i) => checkRelabeling(scope, `${field}[${i}]`, rule));
  }
}

/** The checks Prometheus makes when it loads the scrape configuration, which would otherwise fail far from here. */
function checkRelabeling(scope: IConstruct, field: string, rule: { readonly action?: string; readonly targetLabel?: string; readonly modulus?: number }): void {
  const action = (rule.action ?? 'replace').toLowerCase();
  if (['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && !rule.targetLabel) {
    throw invalidInput(scope, `${field}.targetLabel`, rule.targetLabel ?? null, `the ${action} action writes to a label: set targetLabel`);
  }
  if (action === 'hashmod' && !(Number.isInteger(rule.modulus) && rule.modulus! > 0)) {
    throw invalidInput(scope, `${field}.modulus`, rule.modulus ?? null, 'the hashmod action needs a modulus: a whole number above 0');
  }
}

function checkExtraVolumes(scope: IConstruct, volumes: k8s.Volume[], mounts: k8s.VolumeMount[]): void {
  const names = new Set<string>();
  for (const volume of volumes) {
    checkDnsLabel(scope, 'extraVolumes name', volume.name);
    if (MANAGED_VOLUME_NAMES.includes(volume.name) || names.has(volume.name)) {
      throw invalidInput(scope, 'extraVolumes name', volume.name,
        `use a name of its own: ${MANAGED_VOLUME_NAMES.join(', ')} are the construct's, and each extra volume needs a different name`);
    }
    const types = Object.keys(volume).filter((key) => key !== 'name' && (volume as any)[key] !== undefined);
    if (types.length !== 1 || !RESTRICTED_VOLUME_TYPES.includes(types[0])) {
      throw invalidInput(scope, `extraVolumes "${volume.name}" type`, types.join(', ') || null,
        `give one volume type the Pod Security "restricted" profile allows, as the rest of the pod does: ${RESTRICTED_VOLUME_TYPES.join(', ')}`);
    }
    names.add(volume.name);
  }
  const paths = new Set<string>();
  for (const mount of mounts) {
    if (paths.has(mount.mountPath)) {
      throw invalidInput(scope, 'extraVolumeMounts mountPath', mount.mountPath, 'mount each path once: the API server refuses a second mount at the same path');
    }
    paths.add(mount.mountPath);
    if (!names.has(mount.name)) {
      throw invalidInput(scope, 'extraVolumeMounts name', mount.name, `mount one of extraVolumes (${[...names].join(', ') || 'none given'}): add the volume to extraVolumes`);
    }
    const clash = Object.values(MANAGED_VOLUMES).find((dir) => mount.mountPath === dir || mount.mountPath.startsWith(`${dir}/`));
    if (clash || !mount.mountPath.startsWith('/')) {
      throw invalidInput(scope, 'extraVolumeMounts mountPath', mount.mountPath,
        `use an absolute path outside ${Object.values(MANAGED_VOLUMES).join(', ')}, which the construct mounts`);
    }
  }
}

/**
 * The admin API wipes every group and the lifecycle API stops the Pushgateway: only pods of its
 * own namespace may reach them. The namespaces of jobs, declared later, are checked at synth.
 */
function checkAdminReach(scope: IConstruct, props: PushgatewayProps, namespace: string): void {
  const field = props.enableAdminApi ? 'enableAdminApi' : 'enableLifecycle';
  const reach = props.networkPolicy === false ? 'without the NetworkPolicy every pod of the cluster reaches it'
    : props.ingress ? 'the Ingress lets clients outside the cluster reach it'
      : (props.admitLabelledNamespaces ?? true) ? `the NetworkPolicy admits pushers of namespaces labelled ${PUSHERS_NAMESPACE_LABEL}: "true"`
        : (props.pushers ?? []).some((peer) => peer._namespace() !== namespace) ? `pushers admits clients outside namespace ${namespace}`
          : undefined;
  if (reach) {
    throw invalidInput(scope, field, true,
      `${reach}, and any of them could wipe or stop the Pushgateway: set writeScope (its proxy never serves these APIs; reach them with kubectl port-forward), or drop ${field}`);
  }
}

function checkIngress(scope: IConstruct, ingress: PushgatewayIngress, networkPolicy: boolean, basicAuth: boolean, tls: boolean): void {
  if (typeof ingress.host !== 'string' || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(ingress.host)) {
    throw invalidInput(scope, 'ingress.host', ingress.host, 'use a DNS host name such as "pushgateway.example.com"');
  }
  if (networkPolicy && !ingress.controllerPeers?.length) {
    throw invalidInput(scope, 'ingress.controllerPeers', ingress.controllerPeers ?? null,
      'name the ingress controller pods the NetworkPolicy must admit, e.g. [PushgatewayPeer.allPodsInNamespace("ingress-nginx")], or set networkPolicy: false');
  }
  if (ingress.tlsSecretName !== undefined) checkDnsLabel(scope, 'ingress.tlsSecretName', ingress.tlsSecretName, 253);
  if (!basicAuth && !ingress.allowUnauthenticatedIngress) {
    throw invalidInput(scope, 'ingress', ingress.host,
      'an Ingress without basic auth lets anyone who reaches it write and delete any group: set webConfig with clientSecretName, or writeScope, or allowUnauthenticatedIngress: true to serve it open');
  }
  const told = Object.keys(ingress.annotations ?? {}).some((key) => IngressController.knownBackendTlsAnnotations().includes(key));
  if (tls && !ingress.controller && !told) {
    throw invalidInput(scope, 'ingress.controller', null,
      'the Pushgateway serves HTTPS (webConfig or writeScope tlsSecretName) and an ingress controller that is not told so sends it plain HTTP, '
      + 'which it answers 400 for every push: set ingress.controller to IngressController.INGRESS_NGINX, IngressController.TRAEFIK '
      + 'or IngressController.HAPROXY, or IngressController.custom(name, { ingressAnnotations, serviceAnnotations }) for another controller');
  }
  const custom = ingress.controller?.backendTls;
  if (tls && custom && !Object.keys({ ...custom.ingressAnnotations, ...custom.serviceAnnotations }).length) {
    throw invalidInput(scope, 'ingress.controller', ingress.controller!.name,
      'give the annotations that make the controller speak TLS to its backend (ingressAnnotations or serviceAnnotations)');
  }
}
