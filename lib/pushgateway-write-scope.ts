import { createHash } from 'node:crypto';
import { Lazy, Size } from 'cdk8s';
import { ContainerResources, Cpu, ImagePullPolicy, k8s } from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { toKubeResources } from './kube-quantity';
import { RESTRICTED_RAW_CONTAINER_CONTEXT } from './pod-security';
import type { ResolvedPushgateway } from './pushgateway-resolve';
import { PushgatewayCaCertificate } from './pushgateway-web-config';
import { checkDnsLabel, invalidInput } from './validation';
import { PROXY_JOB_NAME, ProxyJob, writeScopeProxyConfig } from './write-scope-proxy-config';

/**
 * Write scope per namespace: an authorizing nginx proxy in the Pushgateway pod, configured from
 * the jobs declared against the Pushgateway, gives each namespace its own basic-auth credentials,
 * which write only the groups of the jobs declared in that namespace. The Pushgateway listens on
 * 127.0.0.1 behind it. No password is ever in the manifests: you create the Secrets.
 */
export interface PushgatewayWriteScope {
  /**
   * Secret every pushing namespace holds, with keys `username` and `password`: a namespace's user
   * is named after it (`etl`, or `etl.<anything>` for a second user while a password rotates).
   * The one in the Pushgateway's namespace is the maintainer's, which reads everything and deletes
   * any group: the ServiceMonitor and the cleanup use it.
   * @default 'pushgateway-client'
   */
  readonly clientSecretName?: string;
  /**
   * Prefix of the Secrets, in the Pushgateway's namespace, that hold each namespace's htpasswd
   * file (key `htpasswd`, bcrypt lines as `htpasswd -nbB` prints them): `<prefix><namespace>`.
   * A namespace whose Secret is missing gets 403 on every push.
   * @default '<name>-htpasswd-'
   */
  readonly htpasswdSecretPrefix?: string;
  /**
   * A `kubernetes.io/tls` Secret: the proxy serves HTTPS with its `tls.crt` and `tls.key`, and reads
   * them at each handshake, so a renewed certificate needs no restart.
   * @default - plain HTTP
   */
  readonly tlsSecretName?: string;
  /**
   * Where clients find the CA that signed the certificate, in their own namespace.
   * @default - the `ca.crt` key of `tlsSecretName`
   */
  readonly caCertificate?: PushgatewayCaCertificate;
  /**
   * The nginx image of the proxy, pinned by tag or digest.
   * @default 'nginx:1.28.0-alpine'
   */
  readonly proxyImage?: string;
  /**
   * CPU and memory of the proxy container.
   * @default - requests 10m / 16Mi, limits 200m / 64Mi
   */
  readonly proxyResources?: ContainerResources;
}

/** The jobs and namespaces the proxy serves; known at synth only, once every job is declared. */
export interface WriteScopeTenants {
  /** Every job declared against the Pushgateway in this app, and those named for other apps. */
  jobs(): ProxyJob[];
}

/** What the proxy adds to the Pushgateway pod. */
export interface WriteScopePod {
  readonly container: k8s.Container;
  readonly volumes: k8s.Volume[];
  readonly annotations: Record<string, string>;
}

export const DEFAULT_PROXY_IMAGE = 'nginx:1.28.0-alpine';
const PROXY_DIR = '/etc/pushgateway-proxy';
export const WRITE_SCOPE_VOLUMES: Record<string, string> = {
  'proxy-config': `${PROXY_DIR}/config`,
  'proxy-htpasswd': `${PROXY_DIR}/htpasswd`,
  'proxy-tls': `${PROXY_DIR}/tls`,
  'proxy-tmp': '/tmp',
};
const CONFIG_HASH_ANNOTATION = 'batch-monitoring.io/proxy-config-sha256';

/** The port the Pushgateway listens on behind the proxy, on 127.0.0.1 only. */
export function upstreamPort(port: number): number {
  return port === 9092 ? 9093 : 9092;
}

export function checkWriteScope(scope: IConstruct, writeScope: PushgatewayWriteScope): void {
  for (const [field, value] of Object.entries({ clientSecretName: writeScope.clientSecretName, tlsSecretName: writeScope.tlsSecretName })) {
    if (value !== undefined) checkDnsLabel(scope, `writeScope.${field}`, value, 253);
  }
  if (writeScope.htpasswdSecretPrefix !== undefined && !/^[a-z0-9]([-a-z0-9.]*)$/.test(writeScope.htpasswdSecretPrefix)) {
    throw invalidInput(scope, 'writeScope.htpasswdSecretPrefix', writeScope.htpasswdSecretPrefix,
      'use lower-case letters, digits, "-" and ".", starting with a letter or digit (e.g. "pushgateway-htpasswd-"): the namespace is appended');
  }
  if (writeScope.caCertificate && !writeScope.tlsSecretName) {
    throw invalidInput(scope, 'writeScope.caCertificate', writeScope.caCertificate.name, 'a CA is only used with TLS: set writeScope.tlsSecretName too, or drop caCertificate');
  }
  const image = writeScope.proxyImage;
  if (image !== undefined && (!image.trim() || /\s/.test(image))) {
    throw invalidInput(scope, 'writeScope.proxyImage', image, `use an image reference such as "${DEFAULT_PROXY_IMAGE}"`);
  }
}

/** Job names the proxy cannot tell apart from other paths are refused once every job is declared. */
export function checkWriteScopeJobs(scope: IConstruct, jobs: ProxyJob[]): void {
  const bad = jobs.find((job) => !PROXY_JOB_NAME.test(job.name) || job.name === '.' || job.name === '..');
  if (bad) {
    throw invalidInput(scope, `name of job declared in namespace ${bad.namespace}`, bad.name,
      'under writeScope a job name is sent unescaped: use letters, digits, "-", "_", "." and "~", starting with a letter, digit, "-" or "_"');
  }
}

/**
 * The proxy container, its configuration (a ConfigMap rendered at synth from the declared jobs),
 * the htpasswd files of every namespace (each from an optional Secret, so one team's missing
 * Secret does not keep the pod from starting), and a hash of the configuration on the pod, so
 * that declaring a job rolls the pod and nginx reads the new rules.
 */
export function addWriteScopeProxy(scope: Construct, r: ResolvedPushgateway, writeScope: PushgatewayWriteScope, tenants: WriteScopeTenants): WriteScopePod {
  const prefix = writeScope.htpasswdSecretPrefix ?? `${r.name}-htpasswd-`;
  const namespaces = () => [...new Set([r.namespace, ...tenants.jobs().map((job) => job.namespace)])].sort();
  const config = () => {
    const jobs = tenants.jobs();
    checkWriteScopeJobs(scope, jobs);
    return writeScopeProxyConfig({
      listen: String(r.port),
      tls: r.tls,
      upstreamPort: upstreamPort(r.port),
      routePrefix: r.routePrefix,
      maintainerNamespace: r.namespace,
      namespaces: namespaces(),
      jobs,
      htpasswdDir: WRITE_SCOPE_VOLUMES['proxy-htpasswd'],
      tlsDir: WRITE_SCOPE_VOLUMES['proxy-tls'],
      noUsersFile: `${WRITE_SCOPE_VOLUMES['proxy-config']}/no-users`,
      runDir: WRITE_SCOPE_VOLUMES['proxy-tmp'],
      accessLog: '/dev/stdout',
    });
  };
  const lazy = <T>(produce: () => T): T => Lazy.any({ produce }) as unknown as T;
  const configMap = new k8s.KubeConfigMap(scope, 'ProxyConfig', {
    metadata: r.metadata(`${r.name}-proxy`),
    data: { 'nginx.conf': lazy(config), 'no-users': '' },
  });
  const htpasswdSources = () => namespaces().map((namespace) => ({
    secret: { name: `${prefix}${namespace}`, items: [{ key: 'htpasswd', path: namespace }], optional: true },
  }));
  const volumes: k8s.Volume[] = [
    { name: 'proxy-config', configMap: { name: configMap.name } },
    { name: 'proxy-htpasswd', projected: { sources: lazy(htpasswdSources) } },
    // nginx's pid file and request bodies: the root filesystem is read-only.
    { name: 'proxy-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
    ...(writeScope.tlsSecretName ? [{ name: 'proxy-tls', secret: { secretName: writeScope.tlsSecretName } }] : []),
  ];
  const port = k8s.IntOrString.fromString(r.ports[0].name);
  const container: k8s.Container = {
    name: 'proxy',
    image: writeScope.proxyImage ?? DEFAULT_PROXY_IMAGE,
    imagePullPolicy: r.props.imagePullPolicy ?? ImagePullPolicy.IF_NOT_PRESENT,
    // nginx itself, not the image's entrypoint scripts, which would try to rewrite its default configuration.
    command: ['nginx', '-e', 'stderr', '-c', `${WRITE_SCOPE_VOLUMES['proxy-config']}/nginx.conf`, '-g', 'daemon off;'],
    ports: r.ports.map(({ name, port: containerPort }) => ({ name, containerPort, protocol: 'TCP' })),
    // Ready when the Pushgateway behind it is; alive while nginx accepts connections.
    readinessProbe: { httpGet: { path: `${r.routePrefix}/-/ready`, port, scheme: r.tls ? 'HTTPS' : undefined }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    livenessProbe: { tcpSocket: { port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    resources: toKubeResources(writeScope.proxyResources ?? {
      cpu: { request: Cpu.millis(10), limit: Cpu.millis(200) },
      memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
    }),
    securityContext: RESTRICTED_RAW_CONTAINER_CONTEXT,
    volumeMounts: volumes.map((volume) => ({ name: volume.name, mountPath: WRITE_SCOPE_VOLUMES[volume.name], ...(volume.name === 'proxy-tmp' ? {} : { readOnly: true }) })),
  };
  const hash = () => createHash('sha256').update(config()).digest('hex').slice(0, 16);
  return { container, volumes, annotations: { [CONFIG_HASH_ANNOTATION]: lazy(hash) } };
}

/** The Pushgateway container's probes behind the proxy: BusyBox's wget in its image, on 127.0.0.1. */
export function upstreamProbe(r: ResolvedPushgateway, path: string, failureThreshold: number): k8s.Probe {
  return {
    exec: { command: ['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${upstreamPort(r.port)}${r.routePrefix}${path}`] },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold,
  };
}
