import { createHash } from 'node:crypto';
import { Lazy, Size } from 'cdk8s';
import { Cpu, ImagePullPolicy, k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { toKubeResources } from './kube-quantity';
import { RESTRICTED_RAW_CONTAINER_CONTEXT } from './pod-security';
import type { ResolvedPushgateway } from './pushgateway-resolve';
import { checkWriteScopeJobs, DEFAULT_PROXY_IMAGE, PushgatewayWriteScope, upstreamPort, WRITE_SCOPE_VOLUMES } from './pushgateway-write-scope';
import { ProxyJob, writeScopeProxyConfig } from './write-scope-proxy-config';

// The write-scope proxy's container in the Pushgateway pod, built from the resolved props; what
// the props and their checks need of write scope is in pushgateway-write-scope.ts.

const CONFIG_HASH_ANNOTATION = 'batch-monitoring.io/proxy-config-sha256';

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
