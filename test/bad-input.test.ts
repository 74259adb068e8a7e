import { App, Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { Cpu, ImagePullPolicy, ServiceType } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { describe, expect, test } from 'vitest';
import {
  AlertSeverity, BatchJobAlerts, JobRegistry, BatchMonitoringChart, BatchMonitoringChartProps, PushgatewayCaCertificate, CleanupCronJobOptions,
  KubePrometheusFlavour, MonitoredCronJob, MonitoredCronJobProps, Pushgateway, PushgatewayProps, PushgatewayPeer,
  PushgatewayVolumeAccessMode,
} from '../lib';
import { ServiceMonitorSpecEndpointsMetricRelabelingsAction } from '../imports/monitoring.coreos.com';
import { synthApp } from './helpers/synth';

/**
 * The catalogue of bad input: each case builds something wrong and must fail, at construction or
 * at synth, with `<where>: invalid <field> <value as JSON>: <fix>`, so that the message alone says
 * where, what, and how to fix it.
 */
interface BadInput {
  /** Completes "fails …". */
  readonly name: string;
  readonly build: () => void;
  /** The construct path (or, outside any construct, the factory) the message starts with. */
  readonly path: string;
  readonly field: string;
  /** The bad value, as the message shows it (JSON). */
  readonly value: unknown;
  /** What the message says to do. */
  readonly fix: RegExp;
}

// Every app a case creates, so that the runner synthesizes whatever construction let through.
let apps: App[] = [];
function app(): App {
  const created = Testing.app();
  apps.push(created);
  return created;
}

function monitoring(props: BatchMonitoringChartProps = {}): BatchMonitoringChart {
  return new BatchMonitoringChart(app(), 'test', props);
}

function pushgateway(props: PushgatewayProps): Pushgateway {
  return new Pushgateway(new Chart(app(), 'test', { namespace: 'monitoring' }), 'Pushgateway', props);
}

function cleanup(options: CleanupCronJobOptions): BatchMonitoringChart {
  return monitoring({ cleanup: options });
}

const nightly = { name: 'nightly', interval: Duration.days(1), maxDuration: Duration.hours(1) };

function backup(overrides: Partial<MonitoredCronJobProps> = {}, chart = monitoring(), scope: Construct = chart): MonitoredCronJob {
  return new MonitoredCronJob(scope, 'Backup', {
    monitoring: chart,
    jobName: 'daily-backup',
    interval: Duration.days(1),
    maxDuration: Duration.minutes(5),
    schedule: Cron.daily(),
    containers: [{
      name: 'backup',
      image: 'registry.example.com/backup:1.4.2',
      imagePullPolicy: ImagePullPolicy.IF_NOT_PRESENT,
      command: ['/usr/local/bin/backup'],
      securityContext: { user: 10001, group: 10001, ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      resources: { cpu: { request: Cpu.millis(50), limit: Cpu.millis(500) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) } },
    }],
    ...overrides,
  });
}

const DNS_FIX = /lower-case letters, digits and '-', starting and ending with a letter or digit/;
const LABEL_VALUE_FIX = /use at most 63 letters, digits, "-", "_" or "\.", starting and ending with a letter or digit/;
const REPLICAS_FIX = /use a whole number of at least 1 \(1 for a single Pushgateway, 2 or more for high availability\)/;
const POSITIVE_FIX = /use a duration greater than zero, e\.g\. Duration\.minutes\(5\)/;
// The reason, then how a schedule is written.
const cronFix = (reason: string) => new RegExp(`^${reason}: use five fields "minute hour day-of-month month day-of-week" as Kubernetes reads them`);

const CASES: BadInput[] = [
  // Pushgateway
  { name: 'with a Pushgateway name in upper case', build: () => pushgateway({ name: 'PushGateway' }),
    path: 'test/Pushgateway', field: 'name', value: 'PushGateway', fix: DNS_FIX },
  { name: 'with a Pushgateway name longer than a Service name may be', build: () => pushgateway({ name: 'p'.repeat(54) }),
    path: 'test/Pushgateway', field: 'name', value: 'p'.repeat(54), fix: /use at most 53 lower-case letters/ },
  { name: 'with a Pushgateway name holding a quote', build: () => pushgateway({ name: 'push"gateway' }),
    path: 'test/Pushgateway', field: 'name', value: 'push"gateway', fix: DNS_FIX },
  { name: 'with a Pushgateway namespace in upper case', build: () => pushgateway({ namespace: 'Monitoring' }),
    path: 'test/Pushgateway', field: 'namespace', value: 'Monitoring', fix: DNS_FIX },
  { name: 'with a chart namespace that is not a DNS label', build: () => monitoring({ namespace: 'team_a' }),
    path: 'test/Pushgateway', field: 'namespace', value: 'team_a', fix: DNS_FIX },
  { name: 'with port 0', build: () => pushgateway({ port: 0 }),
    path: 'test/Pushgateway', field: 'port', value: 0, fix: /use a whole number from 1 to 65535/ },
  { name: 'with a route prefix without a leading slash', build: () => pushgateway({ routePrefix: 'pushgateway' }),
    path: 'test/Pushgateway', field: 'routePrefix', value: 'pushgateway', fix: /start the path with "\/", e\.g\. "\/pushgateway"/ },
  { name: 'with a route prefix holding a space', build: () => pushgateway({ routePrefix: '/push gateway' }),
    path: 'test/Pushgateway', field: 'routePrefix', value: '/push gateway', fix: /use only letters, digits/ },
  { name: 'with a telemetry path with a trailing slash', build: () => pushgateway({ telemetryPath: '/metrics/' }),
    path: 'test/Pushgateway', field: 'telemetryPath', value: '/metrics/', fix: /remove the trailing "\/", e\.g\. "\/metrics"/ },
  { name: 'with an image reference holding a space', build: () => pushgateway({ image: 'pushgateway v1.11.3' }),
    path: 'test/Pushgateway', field: 'image', value: 'pushgateway v1.11.3', fix: /use an image reference such as/ },
  { name: 'with a fractional replica count', build: () => pushgateway({ replicas: 1.5 }),
    path: 'test/Pushgateway', field: 'replicas', value: 1.5, fix: REPLICAS_FIX },
  { name: 'with no replicas', build: () => pushgateway({ replicas: 0 }),
    path: 'test/Pushgateway', field: 'replicas', value: 0, fix: REPLICAS_FIX },
  { name: 'with a negative replica count', build: () => pushgateway({ replicas: -2 }),
    path: 'test/Pushgateway', field: 'replicas', value: -2, fix: REPLICAS_FIX },
  { name: 'with replicas sharing an existing claim', build: () => pushgateway({ replicas: 2, persistenceExistingClaim: 'pushgateway-data' }),
    path: 'test/Pushgateway', field: 'persistenceExistingClaim', value: 'pushgateway-data', fix: /each replica gets its own claim .*drop persistenceExistingClaim/ },
  { name: 'with replicas and a name too long for StatefulSet pods', build: () => pushgateway({ replicas: 2, name: 'p'.repeat(53) }),
    path: 'test/Pushgateway', field: 'name', value: 'p'.repeat(53), fix: /with replicas > 1 use at most 52 characters/ },
  { name: 'with a disruption budget for a single replica', build: () => pushgateway({ disruptionBudget: { maxUnavailable: 1 } }),
    path: 'test/Pushgateway', field: 'disruptionBudget', value: { maxUnavailable: 1 }, fix: /drop it, or set replicas: 2 or more/ },
  { name: 'with a disruption budget that blocks every drain', build: () => pushgateway({ replicas: 2, disruptionBudget: { maxUnavailable: 0 } }),
    path: 'test/Pushgateway', field: 'disruptionBudget.maxUnavailable', value: 0, fix: /use a whole number from 1 to 1: 0 blocks every node drain/ },
  { name: 'with a disruption budget that keeps every replica', build: () => pushgateway({ replicas: 3, disruptionBudget: { minAvailable: 3 } }),
    path: 'test/Pushgateway', field: 'disruptionBudget.minAvailable', value: 3, fix: /use a whole number from 1 to 2: 3 or more blocks every node drain/ },
  { name: 'with a disruption budget giving both bounds', build: () => pushgateway({ replicas: 3, disruptionBudget: { minAvailable: 1, maxUnavailable: 1 } }),
    path: 'test/Pushgateway', field: 'disruptionBudget', value: { minAvailable: 1, maxUnavailable: 1 }, fix: /give exactly one of maxUnavailable and minAvailable/ },
  { name: 'with an ExternalName Service', build: () => pushgateway({ serviceType: ServiceType.EXTERNAL_NAME }),
    path: 'test/Pushgateway', field: 'serviceType', value: 'ExternalName', fix: /use CLUSTER_IP, NODE_PORT or LOAD_BALANCER/ },
  { name: 'with a LoadBalancer Service the NetworkPolicy would block', build: () => pushgateway({ serviceType: ServiceType.LOAD_BALANCER }),
    path: 'test/Pushgateway', field: 'serviceType', value: 'LoadBalancer', fix: /add PushgatewayPeer\.ipBlock\("<their CIDR>"\) to pushers, or set networkPolicy: false/ },
  { name: 'with a Service annotation key holding a space', build: () => pushgateway({ serviceAnnotations: { 'load balancer': 'internal' } }),
    path: 'test/Pushgateway', field: 'serviceAnnotations key', value: 'load balancer', fix: /use an optional DNS prefix and "\/"/ },
  { name: 'with a ServiceAccount annotation key with an empty name', build: () => pushgateway({ serviceAccountAnnotations: { 'iam.gke.io/': 'x' } }),
    path: 'test/Pushgateway', field: 'serviceAccountAnnotations key', value: 'iam.gke.io/', fix: /use an optional DNS prefix and "\/"/ },
  { name: 'with a ServiceMonitor label value holding a space', build: () => pushgateway({ serviceMonitorLabels: { team: 'data platform' } }),
    path: 'test/Pushgateway', field: 'serviceMonitorLabels["team"]', value: 'data platform', fix: LABEL_VALUE_FIX },
  { name: 'with a ServiceMonitor label the flavour sets', build: () => pushgateway({ flavour: KubePrometheusFlavour.kubePrometheusStack({ release: 'kps' }), serviceMonitorLabels: { release: 'other' } }),
    path: 'test/Pushgateway', field: 'serviceMonitorLabels key', value: 'release', fix: /the construct sets this label .*drop it here/ },
  { name: 'with a relabeling that writes nowhere', build: () => pushgateway({ relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'] }] }),
    path: 'test/Pushgateway', field: 'relabelings[0].targetLabel', value: null, fix: /the replace action writes to a label: set targetLabel/ },
  { name: 'with a hashmod metric relabeling without a modulus', build: () => pushgateway({ metricRelabelings: [{ action: ServiceMonitorSpecEndpointsMetricRelabelingsAction.HASHMOD, sourceLabels: ['job'], targetLabel: 'shard' }] }),
    path: 'test/Pushgateway', field: 'metricRelabelings[0].modulus', value: null, fix: /the hashmod action needs a modulus/ },
  { name: 'with an extra volume named like the data volume', build: () => pushgateway({ extraVolumes: [{ name: 'data', emptyDir: {} }] }),
    path: 'test/Pushgateway', field: 'extraVolumes name', value: 'data', fix: /use a name of its own: data, web-config, tls, proxy-config, proxy-htpasswd, proxy-tls, proxy-tmp are the construct's/ },
  { name: 'with a hostPath extra volume', build: () => pushgateway({ extraVolumes: [{ name: 'host', hostPath: { path: '/var/run' } }] }),
    path: 'test/Pushgateway', field: 'extraVolumes "host" type', value: 'hostPath', fix: /give one volume type the Pod Security "restricted" profile allows/ },
  { name: 'with two extra mounts at one path', build: () => pushgateway({ extraVolumes: [{ name: 'a', emptyDir: {} }, { name: 'b', emptyDir: {} }], extraVolumeMounts: [{ name: 'a', mountPath: '/x' }, { name: 'b', mountPath: '/x' }] }),
    path: 'test/Pushgateway', field: 'extraVolumeMounts mountPath', value: '/x', fix: /mount each path once/ },
  { name: 'with a spread constraint of skew 0', build: () => pushgateway({ topologySpreadConstraints: [{ maxSkew: 0, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: {} }] }),
    path: 'test/Pushgateway', field: 'topologySpreadConstraints[0].maxSkew', value: 0, fix: /use a whole number of at least 1/ },
  { name: 'with a spread constraint that is neither strict nor soft', build: () => pushgateway({ replicas: 2, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'Never', labelSelector: {} }] }),
    path: 'test/Pushgateway', field: 'topologySpreadConstraints[0].whenUnsatisfiable', value: 'Never', fix: /use "DoNotSchedule" or "ScheduleAnyway"/ },
  { name: 'with a spread constraint that selects no pods', build: () => pushgateway({ replicas: 2, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' }] }),
    path: 'test/Pushgateway', field: 'topologySpreadConstraints[0].labelSelector', value: null, fix: /select the Pushgateway pods, e\.g\. \{ matchLabels: \{ "app\.kubernetes\.io\/name": "pushgateway" \} \}/ },
  { name: 'with an extra mount of a volume that is not there', build: () => pushgateway({ extraVolumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }),
    path: 'test/Pushgateway', field: 'extraVolumeMounts name', value: 'scratch', fix: /mount one of extraVolumes \(none given\)/ },
  { name: 'with an extra mount over the data directory', build: () => pushgateway({ extraVolumes: [{ name: 'scratch', emptyDir: {} }], extraVolumeMounts: [{ name: 'scratch', mountPath: '/data/tmp' }] }),
    path: 'test/Pushgateway', field: 'extraVolumeMounts mountPath', value: '/data/tmp', fix: /use an absolute path outside \/data, / },
  { name: 'with a zero persistence interval', build: () => pushgateway({ persistenceInterval: Duration.seconds(0) }),
    path: 'test/Pushgateway', field: 'persistenceInterval', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a managed flag in extraArgs', build: () => pushgateway({ extraArgs: ['--log.level=debug', '--web.listen-address=:80'] }),
    path: 'test/Pushgateway', field: 'extraArgs', value: '--web.listen-address=:80', fix: /remove it: --web\.listen-address is set by the construct/ },
  { name: 'with a zero scrape interval', build: () => pushgateway({ scrapeInterval: Duration.seconds(0) }),
    path: 'test/Pushgateway', field: 'scrapeInterval', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a scrape timeout above the scrape interval', build: () => pushgateway({ scrapeTimeout: Duration.seconds(30) }),
    path: 'test/Pushgateway', field: 'scrapeTimeout', value: '30 seconds', fix: /use at most scrapeInterval \(15 seconds\)/ },
  { name: 'with a pod label value holding a quote', build: () => pushgateway({ podLabels: { team: 'data"platform' } }),
    path: 'test/Pushgateway', field: 'podLabels["team"]', value: 'data"platform', fix: LABEL_VALUE_FIX },
  { name: 'with a node selector key holding a space', build: () => pushgateway({ nodeSelector: { 'node pool': 'batch' } }),
    path: 'test/Pushgateway', field: 'nodeSelector key', value: 'node pool', fix: /use an optional DNS prefix and "\/"/ },
  { name: 'with a web config Secret name that is not a DNS name', build: () => pushgateway({ webConfig: { secretName: 'Web_Config' } }),
    path: 'test/Pushgateway', field: 'webConfig.secretName', value: 'Web_Config', fix: DNS_FIX },
  { name: 'with a CA Secret but no TLS', build: () => pushgateway({ webConfig: { secretName: 'web', caSecretName: 'ca' } }),
    path: 'test/Pushgateway', field: 'webConfig.caSecretName', value: 'ca', fix: /set webConfig\.tlsSecretName too, or drop caSecretName/ },
  { name: 'with an Ingress host in upper case', build: () => pushgateway({ ingress: { host: 'Push.Example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')] } }),
    path: 'test/Pushgateway', field: 'ingress.host', value: 'Push.Example.com', fix: /use a DNS host name such as "pushgateway\.example\.com"/ },
  { name: 'with an Ingress the NetworkPolicy would block', build: () => pushgateway({ ingress: { host: 'push.example.com' } }),
    path: 'test/Pushgateway', field: 'ingress.controllerPeers', value: null, fix: /name the ingress controller pods .* or set networkPolicy: false/ },
  { name: 'with an Ingress in front of HTTPS and no controller told so',
    build: () => pushgateway({ webConfig: { secretName: 'web', tlsSecretName: 'tls', clientSecretName: 'client' }, ingress: { host: 'push.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')] } }),
    path: 'test/Pushgateway', field: 'ingress.controller', value: null, fix: /set ingress.controller to IngressController.INGRESS_NGINX/ },
  { name: 'with an existing claim name that is not a DNS name', build: () => pushgateway({ persistenceExistingClaim: 'Data Claim' }),
    path: 'test/Pushgateway', field: 'persistenceExistingClaim', value: 'Data Claim', fix: DNS_FIX },
  { name: 'with a volume size but no persistence', build: () => pushgateway({ persistence: false, persistenceSize: Size.gibibytes(5) }),
    path: 'test/Pushgateway', field: 'persistenceSize', value: '5Gi', fix: /drop persistenceSize, or set persistence: true/ },
  { name: 'with pushers but no NetworkPolicy', build: () => pushgateway({ networkPolicy: false, pushers: [PushgatewayPeer.podsWithLabels({ app: 'etl' })] }),
    path: 'test/Pushgateway', field: 'pushers', value: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'etl' } } }], fix: /drop pushers, or set networkPolicy: true/ },
  { name: 'with a part-of label holding a space', build: () => pushgateway({ partOf: 'batch monitoring' }),
    path: 'test/Pushgateway', field: 'partOf', value: 'batch monitoring', fix: LABEL_VALUE_FIX },

  // KubePrometheusFlavour and PushgatewayPeer: values built outside any construct name their factory.
  { name: 'with a Helm release name holding a space', build: () => KubePrometheusFlavour.kubePrometheusStack({ release: 'My Release' }),
    path: 'KubePrometheusFlavour.kubePrometheusStack()', field: 'release', value: 'My Release', fix: /use the Helm release name of kube-prometheus-stack/ },
  { name: 'with a kube-prometheus-stack namespace holding a brace', build: () => KubePrometheusFlavour.kubePrometheusStack({ release: 'kps', namespace: 'monitoring}' }),
    path: 'KubePrometheusFlavour.kubePrometheusStack()', field: 'namespace', value: 'monitoring}', fix: DNS_FIX },
  { name: 'with a kube-prometheus namespace in upper case', build: () => KubePrometheusFlavour.kubePrometheus({ namespace: 'Monitoring' }),
    path: 'KubePrometheusFlavour.kubePrometheus()', field: 'namespace', value: 'Monitoring', fix: DNS_FIX },
  { name: 'with a Prometheus ServiceAccount name holding a space', build: () => KubePrometheusFlavour.kubePrometheus({ prometheusServiceAccount: 'prometheus k8s' }),
    path: 'KubePrometheusFlavour.kubePrometheus()', field: 'prometheusServiceAccount', value: 'prometheus k8s', fix: DNS_FIX },
  { name: 'with a discoverable namespace that is not a DNS label', build: () => KubePrometheusFlavour.kubePrometheus({ discoverableNamespaces: ['default', 'team a'] }),
    path: 'KubePrometheusFlavour.kubePrometheus()', field: 'discoverableNamespaces entry', value: 'team a', fix: DNS_FIX },
  { name: 'with an address range without a prefix length', build: () => PushgatewayPeer.ipBlock('203.0.113.0'),
    path: 'PushgatewayPeer.ipBlock()', field: 'cidr', value: '203.0.113.0', fix: /use an address range such as "203\.0\.113\.0\/24"/ },
  { name: 'with an address range outside IPv4', build: () => PushgatewayPeer.ipBlock('203.0.113.300/24'),
    path: 'PushgatewayPeer.ipBlock()', field: 'cidr', value: '203.0.113.300/24', fix: /use an address range such as/ },
  { name: 'with an IPv4 prefix longer than 32 bits', build: () => PushgatewayPeer.ipBlock('10.0.0.0/33'),
    path: 'PushgatewayPeer.ipBlock()', field: 'cidr', value: '10.0.0.0/33', fix: /use an address range such as/ },
  { name: 'with a pusher label value holding a newline', build: () => PushgatewayPeer.podsWithLabels({ app: 'etl\n' }),
    path: 'PushgatewayPeer.podsWithLabels()', field: 'labels["app"]', value: 'etl\n', fix: LABEL_VALUE_FIX },
  { name: 'with a pusher namespace in upper case', build: () => PushgatewayPeer.allPodsInNamespace('Ingress-Nginx'),
    path: 'PushgatewayPeer.allPodsInNamespace()', field: 'namespace', value: 'Ingress-Nginx', fix: DNS_FIX },
  { name: 'with a pusher namespace label key with an empty name', build: () => PushgatewayPeer.namespacesWithLabels({ 'team/': 'data' }),
    path: 'PushgatewayPeer.namespacesWithLabels()', field: 'labels key', value: 'team/', fix: /use an optional DNS prefix and "\/"/ },

  // JobRegistry.addJob, through the chart or the alerts: one name rule, one duplicate check
  { name: 'with a job name holding a template', build: () => monitoring().addJob({ ...nightly, name: 'night{{ .x }}ly' }),
    path: 'test/Jobs', field: 'job name', value: 'night{{ .x }}ly', fix: /without "\{\{" or control characters/ },
  { name: 'with a job declared twice through the chart', build: () => { const c = monitoring(); c.addJob(nightly); c.addJob(nightly); },
    path: 'test/Jobs', field: 'job name', value: 'nightly', fix: /each job is declared once .*remove the second addJob\(\) call or MonitoredCronJob, or give the job another name/ },
  { name: 'with a job namespace that is not a DNS label', build: () => monitoring().addJob({ ...nightly, namespace: 'Team_A' }),
    path: 'test/Jobs', field: 'namespace of job "nightly"', value: 'Team_A', fix: DNS_FIX },
  { name: 'with two jobs of one namespace whose alerts would inhibit each other', build: () => { const c = monitoring({ cleanupEnabled: false }); c.addJob(nightly); c.addJob({ ...nightly, name: 'hourly', severities: { failure: AlertSeverity.WARNING } }); },
    path: 'test/Jobs', field: 'severities.failure of job "hourly"', value: 'warning', fix: /Alertmanager inhibits warning and info alerts .* give both the same severity, or declare them in different namespaces/ },
  { name: 'with a cleanup supersededAfter in fractions of a second', build: () => cleanup({ supersededAfter: Duration.millis(1500) }),
    path: 'test/Cleanup', field: 'supersededAfter', value: '1 second 500 millis', fix: /use whole seconds, e\.g\. Duration\.hours\(1\)/ },

  // BatchJobAlerts.addJob and its options
  { name: 'with a job name holding a newline', build: () => monitoring().alerts.addJob({ ...nightly, name: 'night\nly' }),
    path: 'test/Jobs', field: 'job name', value: 'night\nly', fix: /without "\{\{" or control characters/ },
  { name: 'with an empty job name', build: () => monitoring().alerts.addJob({ ...nightly, name: '' }),
    path: 'test/Jobs', field: 'job name', value: '', fix: /use the non-empty `job` label/ },
  { name: 'with a zero interval', build: () => monitoring().alerts.addJob({ ...nightly, interval: Duration.seconds(0) }),
    path: 'test/Jobs', field: 'interval of job "nightly"', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a zero max duration', build: () => monitoring().alerts.addJob({ ...nightly, maxDuration: Duration.seconds(0) }),
    path: 'test/Jobs', field: 'maxDuration of job "nightly"', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a max duration longer than the interval', build: () => monitoring().alerts.addJob({ ...nightly, maxDuration: Duration.hours(26) }),
    path: 'test/Jobs', field: 'maxDuration of job "nightly"', value: '1 day 1 hour', fix: /lower maxDuration or raise interval/ },
  { name: 'with a zero grace', build: () => monitoring().alerts.addJob({ ...nightly, grace: Duration.seconds(0) }),
    path: 'test/Jobs', field: 'grace of job "nightly"', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a label name PromQL cannot carry', build: () => monitoring().alerts.addJob({ ...nightly, labels: { 'team-name': 'data' } }),
    path: 'test/Jobs', field: 'label name of job "nightly"', value: 'team-name', fix: /use letters, digits and "_"/ },
  { name: 'with a reserved label name', build: () => monitoring().alerts.addJob({ ...nightly, labels: { __name__: 'x' } }),
    path: 'test/Jobs', field: 'label name of job "nightly"', value: '__name__', fix: /not starting with a digit or "__"/ },
  { name: 'with a severity label', build: () => monitoring().alerts.addJob({ ...nightly, labels: { severity: 'page' } }),
    path: 'test/Jobs', field: 'label name of job "nightly"', value: 'severity', fix: /set the severity with `severities` instead/ },
  { name: 'with a label value holding a template', build: () => monitoring().alerts.addJob({ ...nightly, labels: { team: '{{ $value }}' } }),
    path: 'test/Jobs', field: 'labels["team"] of job "nightly"', value: '{{ $value }}', fix: /use a non-empty value without "\{\{"/ },
  { name: 'with a runbook URL with a fragment', build: () => monitoring({ alerts: { runbookBaseUrl: 'https://git.example.com/runbooks.md#top' } }),
    path: 'test/Alerts', field: 'runbookBaseUrl', value: 'https://git.example.com/runbooks.md#top', fix: /without a "#fragment"/ },
  { name: 'with a zero scrape gap tolerance', build: () => monitoring({ alerts: { scrapeGapTolerance: Duration.seconds(0) } }),
    path: 'test/Alerts', field: 'scrapeGapTolerance', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with an alerts name that is not a DNS name', build: () => monitoring({ alerts: { name: 'Batch_Alerts' } }),
    path: 'test/Jobs', field: 'name', value: 'Batch_Alerts', fix: DNS_FIX },
  { name: 'with two BatchJobAlerts writing one PrometheusRule', build: () => { const c = monitoring(); new BatchJobAlerts(c, 'More', { pushgateway: c.pushgateway }); },
    path: 'test/More', field: 'name', value: 'pushgateway', fix: /give this one another `name`/ },

  // BatchJobAlerts.addCronJob
  { name: 'with a CronJob name in upper case', build: () => monitoring().alerts.addCronJob({ name: 'Nightly', namespace: 'apps', interval: Duration.days(1) }),
    path: 'test/Jobs', field: 'cronJob.name', value: 'Nightly', fix: /use at most 52 lower-case letters/ },
  { name: 'with a CronJob namespace holding a quote', build: () => monitoring().alerts.addCronJob({ name: 'nightly', namespace: 'ap"ps', interval: Duration.days(1) }),
    path: 'test/Jobs', field: 'cronJob.namespace', value: 'ap"ps', fix: DNS_FIX },
  { name: 'with a CronJob added twice', build: () => { const c = monitoring(); const cj = { name: 'nightly', namespace: 'apps', interval: Duration.days(1) }; c.alerts.addCronJob(cj); c.alerts.addCronJob(cj); },
    path: 'test/Jobs', field: 'cronJob', value: 'apps/nightly', fix: /remove the second addCronJob\(\) call/ },
  { name: 'with a zero CronJob interval', build: () => monitoring().alerts.addCronJob({ name: 'nightly', namespace: 'apps', interval: Duration.seconds(0) }),
    path: 'test/Jobs', field: 'interval of CronJob "nightly"', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a zero CronJob grace', build: () => monitoring().alerts.addCronJob({ name: 'nightly', namespace: 'apps', interval: Duration.days(1), grace: Duration.seconds(0) }),
    path: 'test/Jobs', field: 'grace of CronJob "nightly"', value: '0 seconds', fix: POSITIVE_FIX },

  // BatchJobsDashboard
  { name: 'with a dashboard uid longer than Grafana allows', build: () => monitoring({ dashboard: { uid: 'b'.repeat(41) } }),
    path: 'test/Dashboard', field: 'uid', value: 'b'.repeat(41), fix: /use at most 40 letters, digits, "-" or "_", as Grafana requires/ },
  { name: 'with a dashboard uid that cannot name a ConfigMap', build: () => monitoring({ dashboard: { uid: 'Batch_Jobs' } }),
    path: 'test/Dashboard', field: 'uid', value: 'Batch_Jobs', fix: /e\.g\. "batch-jobs": the uid also names the ConfigMap/ },
  { name: 'with a blank dashboard title', build: () => monitoring({ dashboard: { title: '  ' } }),
    path: 'test/Dashboard', field: 'title', value: '  ', fix: /give the dashboard a title/ },
  { name: 'with an empty dashboard tag', build: () => monitoring({ dashboard: { tags: ['batch', ''] } }),
    path: 'test/Dashboard', field: 'tags', value: ['batch', ''], fix: /remove the empty tag/ },
  { name: 'with a dashboard refresh below Grafana\'s minimum', build: () => monitoring({ dashboard: { refresh: Duration.seconds(1) } }),
    path: 'test/Dashboard', field: 'refresh', value: '1 second', fix: /at least 5 \(Grafana ignores shorter refresh intervals\)/ },
  { name: 'with a zero dashboard time range', build: () => monitoring({ dashboard: { timeRange: Duration.seconds(0) } }),
    path: 'test/Dashboard', field: 'timeRange', value: '0 seconds', fix: POSITIVE_FIX },

  { name: 'with a job CronJob name that is not a CronJob name', build: () => monitoring().addJob({ ...nightly, cronJob: 'Nightly' }),
    path: 'test/Jobs', field: 'cronJob of job "nightly"', value: 'Nightly', fix: DNS_FIX },
  { name: 'with two CronJobs of one namespace whose alerts would inhibit each other', build: () => {
    const c = monitoring();
    c.alerts.addCronJob({ name: 'nightly', namespace: 'apps', interval: Duration.days(1) });
    c.alerts.addCronJob({ name: 'hourly', namespace: 'apps', interval: Duration.hours(1), severity: AlertSeverity.CRITICAL });
  }, path: 'test/Jobs', field: 'severity of CronJob "hourly"', value: 'critical', fix: /CronJob "nightly" in namespace "apps" has BatchCronJobNoRecentSuccess at warning/ },
  { name: 'with declarations recorded too rarely for the alerts to see them', build: () => monitoring({ registry: { evaluationInterval: Duration.minutes(5) } }),
    path: 'test/Jobs', field: 'evaluationInterval', value: '5 minutes', fix: /at most 2 minutes 30 seconds \(half of Prometheus's 5-minute lookback delta\)/ },
  { name: 'with a job registry namespace that is not a DNS label', build: () => { const c = monitoring(); new JobRegistry(c, 'More', { pushgateway: c.pushgateway, name: 'more', namespace: 'Team' }); },
    path: 'test/More', field: 'namespace', value: 'Team', fix: DNS_FIX },

  // CleanupCronJob
  { name: 'with a cleanup name longer than a CronJob name may be', build: () => cleanup({ name: 'c'.repeat(53) }),
    path: 'test/Cleanup', field: 'name', value: 'c'.repeat(53), fix: /use at most 52 lower-case letters/ },
  { name: 'with a cleanup namespace in upper case', build: () => cleanup({ namespace: 'Jobs' }),
    path: 'test/Cleanup', field: 'namespace', value: 'Jobs', fix: DNS_FIX },
  { name: 'with a zero max age', build: () => cleanup({ maxAge: Duration.seconds(0) }),
    path: 'test/Cleanup', field: 'maxAge', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a max age in fractions of a second', build: () => cleanup({ maxAge: Duration.millis(1500) }),
    path: 'test/Cleanup', field: 'maxAge', value: '1 second 500 millis', fix: /use whole seconds, e\.g\. Duration\.days\(7\)/ },
  { name: 'with minute 61 in the cleanup schedule', build: () => cleanup({ schedule: Cron.schedule({ minute: '61', hour: '0' }) }),
    path: 'test/Cleanup', field: 'schedule', value: '61 0 * * *', fix: cronFix('the minute field allows 0 to 59, not "61"') },
  { name: 'with a cleanup schedule of 4 fields, even with an expected interval', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', weekDay: '' }), expectedInterval: Duration.days(1) }),
    path: 'test/Cleanup', field: 'schedule', value: '0 0 * * ', fix: cronFix('it has 4 fields, not 5') },
  { name: 'with a time zone in the cleanup schedule', build: () => cleanup({ schedule: Cron.schedule({ minute: 'CRON_TZ=Europe/Berlin 0', hour: '0' }) }),
    path: 'test/Cleanup', field: 'schedule', value: 'CRON_TZ=Europe/Berlin 0 0 * * *', fix: cronFix('Kubernetes refuses a time zone in the schedule \\(set timeZone instead\\)') },
  { name: 'with day of week 8 in the cleanup schedule', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', weekDay: '1-8' }), expectedInterval: Duration.days(7), maxAge: Duration.days(14) }),
    path: 'test/Cleanup', field: 'schedule', value: '0 0 * * 1-8', fix: cronFix('the day-of-week field allows 0 to 6 or SUN-SAT, not "8"') },
  { name: 'with a day-of-month range that ends before it starts', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', day: '20-10' }), expectedInterval: Duration.days(31), maxAge: Duration.days(62) }),
    path: 'test/Cleanup', field: 'schedule', value: '0 0 20-10 * *', fix: cronFix('the day-of-month range "20-10" ends before it starts') },
  { name: 'with an unknown schedule descriptor', build: () => cleanup({ schedule: { expressionString: '@fortnightly' } as Cron, expectedInterval: Duration.days(14), maxAge: Duration.days(28) }),
    path: 'test/Cleanup', field: 'schedule', value: '@fortnightly', fix: cronFix('unknown descriptor @fortnightly') },
  { name: 'with a cleanup schedule that never runs', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', day: '30', month: '2' }), expectedInterval: Duration.days(1) }),
    path: 'test/Cleanup', field: 'schedule', value: '0 0 30 2 *', fix: /^it never runs \(day-of-month "30" never falls in month "2"\), so Kubernetes would never start the job: use days that exist/ },
  { name: 'with a cleanup time zone that does not exist', build: () => cleanup({ timeZone: 'Europe/Atlantis' }),
    path: 'test/Cleanup', field: 'timeZone', value: 'Europe/Atlantis', fix: /use an IANA time zone name such as "Europe\/Berlin"/ },
  { name: 'with a daily expected interval for a weekly cleanup schedule written with a name', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', weekDay: 'sun' }), expectedInterval: Duration.hours(36), maxAge: Duration.days(14) }),
    path: 'test/Cleanup', field: 'expectedInterval', value: '1 day 12 hours', fix: /leaves up to 7 days between runs/ },
  { name: 'with an expected interval shorter than the cleanup schedule', build: () => cleanup({ schedule: Cron.weekly(), expectedInterval: Duration.days(1), maxAge: Duration.days(14) }),
    path: 'test/Cleanup', field: 'expectedInterval', value: '1 day', fix: /leaves up to 7 days between runs.*raise expectedInterval to at least that/ },
  { name: 'with a zero expected interval', build: () => cleanup({ schedule: Cron.schedule({ minute: '0', hour: '0', weekDay: 'MON' }), expectedInterval: Duration.seconds(0) }),
    path: 'test/Cleanup', field: 'expectedInterval', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a zero active deadline', build: () => cleanup({ activeDeadline: Duration.seconds(0) }),
    path: 'test/Cleanup', field: 'activeDeadline', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a starting deadline of 9 seconds', build: () => cleanup({ startingDeadline: Duration.seconds(9) }),
    path: 'test/Cleanup', field: 'startingDeadline', value: '9 seconds', fix: /use at least 10 seconds/ },
  { name: 'with a negative backoff limit', build: () => cleanup({ backoffLimit: -1 }),
    path: 'test/Cleanup', field: 'backoffLimit', value: -1, fix: /use a whole number from 0 to 100/ },
  { name: 'with 101 finished runs kept', build: () => cleanup({ successfulJobsRetained: 101 }),
    path: 'test/Cleanup', field: 'successfulJobsRetained', value: 101, fix: /use a whole number from 0 to 100/ },
  { name: 'with a concurrency of 0', build: () => cleanup({ concurrency: 0 }),
    path: 'test/Cleanup', field: 'concurrency', value: 0, fix: /use a whole number from 1 to 64/ },
  { name: 'with a zero request timeout', build: () => cleanup({ requestTimeout: Duration.seconds(0) }),
    path: 'test/Cleanup', field: 'requestTimeout', value: '0 seconds', fix: POSITIVE_FIX },
  { name: 'with a job both included and excluded', build: () => cleanup({ jobs: ['etl', 'nightly'], excludeJobs: ['nightly'] }),
    path: 'test/Cleanup', field: 'jobs', value: 'nightly', fix: /a job cannot be both in jobs and in excludeJobs: keep one/ },
  { name: 'with an empty excluded job', build: () => cleanup({ excludeJobs: [''] }),
    path: 'test/Cleanup', field: 'excludeJobs', value: '', fix: /give a job name/ },
  { name: 'with credentials in the cleanup URL', build: () => cleanup({ url: 'http://user:secret@pushgateway:9091' }),
    path: 'test/Cleanup', field: 'url', value: 'http://user:secret@pushgateway:9091', fix: /without credentials/ },
  { name: 'with a CA certificate and an http cleanup URL', build: () => cleanup({ caCertificate: PushgatewayCaCertificate.fromSecret('pushgateway-tls') }),
    path: 'test/Cleanup', field: 'caCertificate', value: 'Secret/pushgateway-tls', fix: /set url to the https address, or drop caCertificate/ },
  { name: 'with a basic-auth Secret name in upper case', build: () => cleanup({ basicAuth: { secretName: 'Creds' } }),
    path: 'test/Cleanup', field: 'basicAuth.secretName', value: 'Creds', fix: DNS_FIX },
  { name: 'with a cleanup image holding a space', build: () => cleanup({ image: 'node 24' }),
    path: 'test/Cleanup', field: 'image', value: 'node 24', fix: /use an image reference such as "node:/ },
  { name: 'with a cleanup part-of label holding a slash', build: () => cleanup({ partOf: 'platform/batch' }),
    path: 'test/Cleanup', field: 'partOf', value: 'platform/batch', fix: LABEL_VALUE_FIX },

  // MonitoredCronJob
  { name: 'with a job name longer than a CronJob name may be', build: () => backup({ jobName: 'a'.repeat(53) }),
    path: 'test/Backup', field: 'jobName', value: 'a'.repeat(53), fix: /use at most 52 characters: Kubernetes limits CronJob names to 52/ },
  { name: 'with a CronJob job name holding an underscore', build: () => backup({ jobName: 'daily_backup' }),
    path: 'test/Backup', field: 'jobName', value: 'daily_backup', fix: DNS_FIX },
  { name: 'with wrapCommand but no command', build: () => backup({ wrapCommand: true, containers: [{ name: 'backup', image: 'backup:1' }] }),
    path: 'test/Backup', field: 'container "backup" command', value: null, fix: /give the container an explicit `command`.*or set wrapCommand: false/ },
  { name: 'with minute 61 in a CronJob schedule', build: () => backup({ schedule: Cron.schedule({ minute: '61', hour: '3' }) }),
    path: 'test/Backup', field: 'schedule', value: '61 3 * * *', fix: cronFix('the minute field allows 0 to 59, not "61"') },
  { name: 'with a month name that does not exist', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '3', month: 'JAN-SMARCH' }), interval: Duration.days(366) }, monitoring({ cleanupEnabled: false })),
    path: 'test/Backup', field: 'schedule', value: '0 3 * JAN-SMARCH *', fix: cronFix('the month field allows 1 to 12 or JAN-DEC, not "SMARCH"') },
  { name: 'with a step of 0 in a CronJob schedule', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '*/0' }) }),
    path: 'test/Backup', field: 'schedule', value: '0 */0 * * *', fix: cronFix('the hour field "\\*/0" has a step of 0') },
  { name: 'with two slashes in a CronJob schedule', build: () => backup({ schedule: Cron.schedule({ minute: '0/5/10' }) }),
    path: 'test/Backup', field: 'schedule', value: '0/5/10 * * * *', fix: cronFix('the minute field "0/5/10" is malformed') },
  { name: 'with an interval shorter than the schedule', build: () => backup({ schedule: Cron.weekly(), interval: Duration.days(1) }),
    path: 'test/Backup', field: 'interval', value: '1 day', fix: /leaves up to 7 days between runs \(.+ to .+\), so BatchJobNotRunning would fire between runs: raise interval to at least that, or leave it out/ },
  { name: 'with a CronJob schedule that never runs', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '0', day: '31', month: '4' }) }),
    path: 'test/Backup', field: 'schedule', value: '0 0 31 4 *', fix: /^it never runs \(day-of-month "31" never falls in month "4"\)/ },
  { name: 'with day of week 7 in a CronJob schedule (Kubernetes allows 0 to 6)', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '3', weekDay: '7' }) }),
    path: 'test/Backup', field: 'schedule', value: '0 3 * * 7', fix: cronFix('the day-of-week field allows 0 to 6 or SUN-SAT, not "7"') },
  { name: 'with a two-day interval for a weekly schedule written with a weekday name', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '3', weekDay: 'MON' }), interval: Duration.days(2) }),
    path: 'test/Backup', field: 'interval', value: '2 days', fix: /^the schedule "0 3 \* \* MON" leaves up to 7 days between runs/ },
  { name: 'with a three-day interval for a weekly schedule written with "?"', build: () => backup({ schedule: Cron.schedule({ minute: '0', hour: '3', day: '?', weekDay: '1' }), interval: Duration.days(3) }),
    path: 'test/Backup', field: 'interval', value: '3 days', fix: /^the schedule "0 3 \? \* 1" leaves up to 7 days between runs/ },
  { name: 'with a daily schedule in the hour Berlin skips in spring', build: () => backup({ schedule: Cron.schedule({ minute: '30', hour: '2' }), timeZone: 'Europe/Berlin', interval: Duration.hours(30) }),
    path: 'test/Backup', field: 'interval', value: '1 day 6 hours',
    fix: /^the schedule "30 2 \* \* \*" in Europe\/Berlin leaves up to 1 day 23 hours between runs \(\d{4}-03-\d\d 02:30 \(UTC\+01:00\) to \d{4}-03-\d\d 02:30 \(UTC\+02:00\)\)/ },
  { name: 'with a time zone written in the wrong case', build: () => backup({ timeZone: 'europe/berlin' }),
    path: 'test/Backup', field: 'timeZone', value: 'europe/berlin', fix: /^write it as "Europe\/Berlin": Kubernetes reads time zone names case-sensitively/ },
  { name: 'with the time zone "Local"', build: () => backup({ timeZone: 'Local' }),
    path: 'test/Backup', field: 'timeZone', value: 'Local', fix: /use an IANA time zone name/ },
  { name: 'with a starting deadline below 10 seconds', build: () => backup({ startingDeadline: Duration.seconds(5) }),
    path: 'test/Backup', field: 'startingDeadline', value: '5 seconds', fix: /use at least 10 seconds/ },
  { name: 'with a CronJob in a chart without a namespace', build: () => { const c = monitoring(); backup({}, c, new Chart(c.node.root, 'apps')); },
    path: 'apps/Backup', field: 'namespace', value: null, fix: /set a namespace on the chart or in metadata\.namespace/ },
  { name: 'with a CronJob given neither a chart nor a registry', build: () => backup({ monitoring: undefined }),
    path: 'test/Backup', field: 'monitoring', value: null, fix: /give either `monitoring` \(a BatchMonitoringChart\) or `registry`/ },
  { name: 'with a CronJob for a job the chart already declares', build: () => { const c = monitoring(); c.addJob({ ...nightly, name: 'daily-backup' }); backup({}, c); },
    path: 'test/Jobs', field: 'job name', value: 'daily-backup', fix: /a MonitoredCronJob declares its own/ },
];

describe('bad input', () => {
  test.each(CASES)('fails $name', ({ build, path, field, value, fix }) => {
    apps = [];
    let message: string | undefined;
    try {
      build();
      for (const created of apps) synthApp(created);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message, 'the bad input was accepted').toBeDefined();
    const head = `${path}: invalid ${field} ${JSON.stringify(value)}: `;
    expect(message!.slice(0, head.length)).toBe(head);
    expect(message!.slice(head.length)).toMatch(fix);
  });

  test('the catalogue holds at least 30 distinct bad inputs', () => {
    const distinct = new Set(CASES.map((c) => `${c.path} ${c.field} ${JSON.stringify(c.value)}`));
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(distinct.size).toBe(CASES.length);
    expect(distinct.size).toBeGreaterThanOrEqual(30);
  });

  test('the catalogue covers every construct and factory', () => {
    const paths = new Set(CASES.map((c) => c.path));
    for (const where of [
      'test/Pushgateway', 'test/Jobs', 'test/Alerts', 'test/Dashboard', 'test/Cleanup', 'test/Backup',
      'KubePrometheusFlavour.kubePrometheus()', 'KubePrometheusFlavour.kubePrometheusStack()',
      'PushgatewayPeer.podsWithLabels()', 'PushgatewayPeer.allPodsInNamespace()', 'PushgatewayPeer.namespacesWithLabels()',
    ]) {
      expect(paths, where).toContain(where);
    }
  });

  test('cdk8s refuses a negative duration itself, naming the value', () => {
    // Before any construct sees it, so no path: the stack trace points at the Duration call.
    expect(() => Duration.minutes(-5)).toThrow(/^Duration amounts cannot be negative\. Received: -5$/);
  });

  test('the cron check accepts what Kubernetes accepts', () => {
    const chart = monitoring({ cleanupEnabled: false });
    const schedules = ['*/15 * * * *', '0 3 * * MON-FRI', '0 0 1 jan,jul ?', '5 4 * * sun', '30 2 1-7 * 1', '0 */6 * * 0-6/2', '@weekly', '@every 1h30m'];
    for (const [i, expression] of schedules.entries()) {
      // Cron.schedule cannot express a descriptor; a Cron is only ever read through expressionString.
      const schedule = { expressionString: expression } as Cron;
      new MonitoredCronJob(chart, `Job${i}`, {
        monitoring: chart, jobName: `job-${i}`, maxDuration: Duration.minutes(5), schedule,
      });
    }
    expect(chart.jobs.map((j) => j.name)).toContain(`job-${schedules.length - 1}`);
    // Without an interval, each job expects what its schedule gives: January and July is 184 days apart at most.
    expect(chart.jobs.map((j) => j.interval.toHours({ integral: false }))).toEqual([0.25, 72, 184 * 24, 7 * 24, 7 * 24, 30, 7 * 24, 1.5]);
  });

  test('the conflict checks leave consistent options alone', () => {
    apps = [];
    pushgateway({ replicas: 2, persistenceAccessMode: PushgatewayVolumeAccessMode.READ_WRITE_MANY });
    pushgateway({ persistence: false, networkPolicy: false });
    pushgateway({ pushers: [], ingress: { host: 'push.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')], allowUnauthenticatedIngress: true } });
    backup({ schedule: Cron.weekly(), interval: Duration.days(7) }, monitoring({ cleanup: { maxAge: Duration.days(14) } }));
    for (const created of apps) synthApp(created);
  });
});
