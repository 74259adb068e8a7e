import { Chart, Duration, Size, Testing, Yaml } from 'cdk8s';
import { Cpu, ImagePullPolicy, k8s, ServiceType } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { describe, expect, test } from 'vitest';
import { IngressController, KubePrometheusFlavour, Pushgateway, PushgatewayCaCertificate, PushgatewayPeer, PushgatewayProps } from '../lib';
import { ServiceMonitorSpecEndpointsMetricRelabelingsAction } from '../imports/monitoring.coreos.com';
import { synth } from './helpers/synth';

function chart(namespace = 'monitoring'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

describe('Pushgateway defaults', () => {
  const c = chart();
  const pgw = new Pushgateway(c, 'Pushgateway');
  const s = synth(c);
  const deployment = s.find('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('snapshot', async () => {
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-defaults.k8s.yaml');
  });

  test('defines exactly the expected objects', () => {
    expect(s.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/pushgateway', 'PersistentVolumeClaim/pushgateway-data', 'Deployment/pushgateway',
      'Service/pushgateway', 'ServiceMonitor/pushgateway', 'NetworkPolicy/pushgateway',
    ]);
    expect(s.all('ClusterRole')).toHaveLength(0);
    expect(s.all('ClusterRoleBinding')).toHaveLength(0);
    expect(s.all('Role')).toHaveLength(0);
  });

  test('image pinned, IfNotPresent, one replica, Recreate', () => {
    expect(container.image).toBe('quay.io/prometheus/pushgateway:v1.11.3');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('persistence: 2Gi RWO claim mounted at /data, file and interval wired', () => {
    const pvc = s.find('PersistentVolumeClaim');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(pvc.spec.resources.requests.storage).toBe('2Gi');
    expect(pvc.spec.storageClassName).toBeUndefined();
    expect(pod.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'pushgateway-data' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(container.args).toEqual([
      '--web.listen-address=:9091', '--persistence.file=/data/pushgateway.data', '--persistence.interval=5m',
    ]);
  });

  test('lifecycle and admin API are off', () => {
    expect(container.args.join(' ')).not.toMatch(/enable-lifecycle|enable-admin-api/);
  });

  test('probes: liveness /-/healthy, readiness /-/ready, on the named port', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/-/healthy', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/-/healthy', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9091, protocol: 'TCP' }]);
  });

  test('security as in kube-prometheus', () => {
    expect(s.find('ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('pushgateway');
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
      runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('resources: requests 50m/128Mi, limits 1 CPU/384Mi (docs/benchmarks.md), GOMEMLIMIT at 90 % of the memory limit', () => {
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '384Mi' } });
    expect(container.env).toEqual([{ name: 'GOMEMLIMIT', value: '345MiB' }]);
  });

  test('Service: ClusterIP port 9091 named http, targeting the named container port', () => {
    const svc = s.find('Service');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 9091, targetPort: 'http', protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  test('ServiceMonitor: port http that the selected Service has, honorLabels, 15s, /metrics', () => {
    const sm = s.find('ServiceMonitor');
    expect(sm.metadata.namespace).toBe('monitoring');
    expect(sm.spec.endpoints).toEqual([{ port: 'http', honorLabels: true, interval: '15s', path: '/metrics' }]);
    const svc = s.find('Service');
    expect(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels[k] === v)).toBe(true);
    expect(svc.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
  });

  test('NetworkPolicy: only the port, from Prometheus and pusher-labelled pods of its own and of admin-labelled namespaces', () => {
    const np = s.find('NetworkPolicy');
    expect(np.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([{
      from: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
        {
          namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['monitoring'] }] },
          podSelector: { matchLabels: { [Pushgateway.PUSHER_LABEL]: 'true' } },
        },
        { namespaceSelector: { matchLabels: { [Pushgateway.PUSHERS_NAMESPACE_LABEL]: 'true' } }, podSelector: { matchLabels: { [Pushgateway.PUSHER_LABEL]: 'true' } } },
      ],
      ports: [{ port: 9091, protocol: 'TCP' }],
    }]);
  });

  test('labels on every object; selectors without version', () => {
    for (const o of s.objects) {
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'pushgateway',
        'app.kubernetes.io/component': 'exporter',
        'app.kubernetes.io/part-of': 'batch-monitoring',
        'app.kubernetes.io/version': '1.11.3',
      });
    }
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('1.11.3');
    expect(deployment.spec.selector.matchLabels).not.toHaveProperty('app.kubernetes.io/version');
  });

  test('exposes its in-cluster URL', () => {
    expect(pgw.url).toBe('http://pushgateway.monitoring.svc:9091');
  });
});

describe('Pushgateway options', () => {
  test('fully customised', async () => {
    const c = chart('batch');
    const pgw = new Pushgateway(c, 'Pushgateway', {
      name: 'team-pushgateway',
      flavour: KubePrometheusFlavour.kubePrometheus(),
      partOf: 'data-platform',
      image: 'registry.example.com/prometheus/pushgateway:v1.11.2',
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      imagePullSecrets: ['registry-credentials'],
      persistenceSize: Size.gibibytes(5),
      persistenceStorageClass: 'fast-ssd',
      persistenceInterval: Duration.minutes(1),
      admitLabelledNamespaces: false,
      routePrefix: '/pushgateway',
      telemetryPath: '/scrape',
      port: 9191,
      resources: { cpu: { request: Cpu.millis(100), limit: Cpu.units(1) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) } },
      scrapeInterval: Duration.seconds(30),
      scrapeTimeout: Duration.seconds(10),
      pushers: [PushgatewayPeer.allPodsInNamespace('etl'), PushgatewayPeer.podsWithLabels({ app: 'backup' }, 'ops')],
      extraArgs: ['--log.level=debug'],
      env: { TZ: 'UTC', GOMAXPROCS: '1' },
      nodeSelector: { 'node-role.kubernetes.io/infra': 'true' },
      tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] } },
      priorityClassName: 'monitoring-critical',
      podLabels: { team: 'data' },
      podAnnotations: { 'example.com/owner': 'data-team' },
    });
    const s = synth(c);
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-custom.k8s.yaml');

    const pod = s.find('Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(container.args).toEqual([
      '--web.listen-address=:9191', '--web.route-prefix=/pushgateway', '--web.telemetry-path=/scrape',
      '--persistence.file=/data/pushgateway.data', '--persistence.interval=1m',
      '--log.level=debug',
    ]);
    // The route prefix moves every endpoint: probes and the scrape path follow it.
    expect(container.livenessProbe.httpGet.path).toBe('/pushgateway/-/healthy');
    expect(container.readinessProbe.httpGet.path).toBe('/pushgateway/-/ready');
    expect(s.find('ServiceMonitor').spec.endpoints[0]).toMatchObject({ path: '/pushgateway/scrape', interval: '30s', scrapeTimeout: '10s' });
    expect(pgw.url).toBe('http://team-pushgateway.batch.svc:9191/pushgateway');
    expect(s.find('PersistentVolumeClaim').spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '5Gi' } } });
    expect(s.find('Deployment').metadata.labels['app.kubernetes.io/version']).toBe('1.11.2');
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/infra': 'true' });
    expect(s.find('Deployment').spec.selector.matchLabels).not.toHaveProperty('team');
    expect(container.env).toEqual([{ name: 'GOMAXPROCS', value: '1' }, { name: 'GOMEMLIMIT', value: '460MiB' }, { name: 'TZ', value: 'UTC' }]);
  });

  test('GOMEMLIMIT: from env when given there, none without a memory limit', () => {
    const env = (props: PushgatewayProps) => {
      const c = chart();
      new Pushgateway(c, 'Pushgateway', props);
      return synth(c).find('Deployment').spec.template.spec.containers[0].env;
    };
    expect(env({ env: { GOMEMLIMIT: '100MiB' } })).toEqual([{ name: 'GOMEMLIMIT', value: '100MiB' }]);
    expect(env({ resources: { memory: { request: Size.mebibytes(64) } } })).toBeUndefined();
    expect(env({ resources: { memory: { limit: Size.gibibytes(1.5) } } })).toEqual([{ name: 'GOMEMLIMIT', value: '1382MiB' }]);
  });

  test('persistence off: no claim, no flag, rolling updates', () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', { persistence: false });
    const s = synth(c);
    const deployment = s.find('Deployment');
    expect(s.all('PersistentVolumeClaim')).toHaveLength(0);
    expect(deployment.spec.template.spec.containers[0].args.join(' ')).not.toMatch(/persistence/);
    expect(deployment.spec.template.spec.volumes).toBeUndefined();
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
  });

  test('an existing claim is mounted, not defined', () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', { persistenceExistingClaim: 'pushgateway-storage' });
    const s = synth(c);
    expect(s.all('PersistentVolumeClaim')).toHaveLength(0);
    expect(s.find('Deployment').spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('pushgateway-storage');
  });

  test('kube-prometheus outside its namespaces: a Role and RoleBinding for monitoring/prometheus-k8s', async () => {
    const c = chart('batch-jobs');
    new Pushgateway(c, 'Pushgateway');
    const s = synth(c);
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-other-namespace.k8s.yaml');
    const role = s.find('Role');
    expect(role.metadata.namespace).toBe('batch-jobs');
    expect(role.rules).toEqual([
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = s.find('RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
  });

  test.each(['default', 'kube-system', 'monitoring'])('kube-prometheus in %s: no RBAC needed', (ns) => {
    const c = chart(ns);
    new Pushgateway(c, 'Pushgateway');
    expect(synth(c).all('Role')).toHaveLength(0);
  });

  test('kube-prometheus-stack: release label on the ServiceMonitor, no RBAC in any namespace', () => {
    const c = chart('batch-jobs');
    new Pushgateway(c, 'Pushgateway', { flavour: KubePrometheusFlavour.kubePrometheusStack({ release: 'kps' }) });
    const s = synth(c);
    expect(s.find('ServiceMonitor').metadata.labels.release).toBe('kps');
    expect(s.find('Service').metadata.labels).not.toHaveProperty('release');
    expect(s.all('Role')).toHaveLength(0);
    expect(s.all('RoleBinding')).toHaveLength(0);
  });

  test('two Pushgateways (two teams) in one chart: no name or selector collision', () => {
    const c = chart();
    const a = new Pushgateway(c, 'TeamA', { name: 'pushgateway-team-a' });
    const b = new Pushgateway(c, 'TeamB', { name: 'pushgateway-team-b' });
    const s = synth(c);
    const keys = s.objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    const [da, db] = s.all('Deployment');
    expect(da.spec.selector.matchLabels).not.toEqual(db.spec.selector.matchLabels);
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    // Each Service and ServiceMonitor selects its own pods only.
    for (const svc of s.all('Service')) {
      const own = svc.metadata.name === 'pushgateway-team-a' ? da : db;
      const other = own === da ? db : da;
      expect(selects(svc.spec.selector, own.spec.template.metadata.labels)).toBe(true);
      expect(selects(svc.spec.selector, other.spec.template.metadata.labels)).toBe(false);
    }
    expect(a.url).not.toBe(b.url);
  });

  test('selectors do not depend on the construct path', () => {
    const selectorsOf = (build: (c: Chart) => void) => {
      const c = chart();
      build(c);
      return synth(c).find('Deployment').spec.selector.matchLabels;
    };
    const direct = selectorsOf((c) => new Pushgateway(c, 'Pushgateway'));
    const moved = selectorsOf((c) => new Pushgateway(new Construct(c, 'Nested'), 'Renamed'));
    expect(moved).toEqual(direct);
  });
});

describe('Pushgateway web config (basic auth and TLS)', () => {
  const c = chart();
  const pgw = new Pushgateway(c, 'Pushgateway', {
    webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' },
  });
  const s = synth(c);
  const pod = s.find('Deployment').spec.template.spec;
  const container = pod.containers[0];

  test('snapshot', async () => {
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-web-config.k8s.yaml');
  });

  test('the web config and certificate come from the Secrets, mounted read-only', () => {
    expect(container.args).toContain('--web.config.file=/etc/pushgateway/web/web-config.yml');
    expect(pod.volumes).toContainEqual({ name: 'web-config', secret: { secretName: 'pushgateway-web-config', items: [{ key: 'web-config.yml', path: 'web-config.yml' }] } });
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'pushgateway-tls' } });
    expect(container.volumeMounts).toContainEqual({ name: 'web-config', mountPath: '/etc/pushgateway/web', readOnly: true });
    expect(container.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/pushgateway/tls', readOnly: true });
  });

  test('probes keep working without credentials in the pod spec: TCP on the named port', () => {
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect(probe.tcpSocket).toEqual({ port: 'http' });
      expect(probe.httpGet).toBeUndefined();
    }
  });

  test('the ServiceMonitor scrapes over https with the CA and the basic-auth Secret', () => {
    expect(s.find('ServiceMonitor').spec.endpoints[0]).toMatchObject({
      scheme: 'https',
      tlsConfig: { ca: { secret: { name: 'pushgateway-tls', key: 'ca.crt' } }, serverName: 'pushgateway.monitoring.svc' },
      basicAuth: { username: { name: 'pushgateway-client', key: 'username' }, password: { name: 'pushgateway-client', key: 'password' } },
    });
  });

  test('the URL is https; clients get Secret references, never a value', () => {
    expect(pgw.url).toBe('https://pushgateway.monitoring.svc:9091');
    expect(pgw.clientAuth).toEqual({
      basicAuth: { secretName: 'pushgateway-client', usernameKey: 'username', passwordKey: 'password' },
      ca: PushgatewayCaCertificate.fromSecret('pushgateway-tls', 'ca.crt'),
    });
    expect(s.all('Secret')).toHaveLength(0);
  });

  test('TLS without basic auth: HTTP probes over HTTPS', () => {
    const c2 = chart();
    new Pushgateway(c2, 'Pushgateway', { webConfig: { secretName: 'web', tlsSecretName: 'tls' } });
    const probe = synth(c2).find('Deployment').spec.template.spec.containers[0].readinessProbe;
    expect(probe.httpGet).toEqual({ path: '/-/ready', port: 'http', scheme: 'HTTPS' });
  });

  test('fails with a CA but no TLS', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { webConfig: { secretName: 'web', caSecretName: 'ca' } }))
      .toThrow(/invalid webConfig.caSecretName "ca": a CA is only used with TLS: set webConfig.tlsSecretName too/);
  });

  test('fails with an invalid Secret name', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { webConfig: { secretName: 'Web_Config' } }))
      .toThrow(/invalid webConfig.secretName "Web_Config"/);
  });
});

describe('Pushgateway Ingress', () => {
  test('for pushers outside the cluster: host, class, TLS, and the controller admitted by the NetworkPolicy', async () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', {
      routePrefix: '/pushgateway',
      ingress: {
        host: 'metrics.example.com',
        className: 'nginx',
        tlsSecretName: 'metrics-example-com-tls',
        annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
        controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')],
      },
      webConfig: { secretName: 'pushgateway-web-config', clientSecretName: 'pushgateway-client' },
    });
    const s = synth(c);
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-ingress.k8s.yaml');
    const ingress = s.find('Ingress');
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['metrics.example.com'], secretName: 'metrics-example-com-tls' }],
      rules: [{ host: 'metrics.example.com', http: { paths: [{ path: '/pushgateway', pathType: 'Prefix', backend: { service: { name: 'pushgateway', port: { name: 'http' } } } }] } }],
    });
    expect(s.find('NetworkPolicy').spec.ingress[0].from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} });
  });

  test('fails when the NetworkPolicy would block the ingress controller', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { ingress: { host: 'metrics.example.com', allowUnauthenticatedIngress: true } }))
      .toThrow(/invalid ingress.controllerPeers null: name the ingress controller pods the NetworkPolicy must admit/);
  });

  test('fails with an invalid host', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { networkPolicy: false, ingress: { host: 'https://metrics.example.com', allowUnauthenticatedIngress: true } }))
      .toThrow(/invalid ingress.host "https:\/\/metrics.example.com": use a DNS host name/);
  });

  describe('in front of a Pushgateway that serves HTTPS', () => {
    const TLS = { secretName: 'web', tlsSecretName: 'pushgateway-tls', clientSecretName: 'client' };
    const withController = (controller?: IngressController, annotations?: Record<string, string>) => {
      const c = chart();
      new Pushgateway(c, 'Pushgateway', {
        webConfig: TLS,
        ingress: { host: 'metrics.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress')], controller, annotations },
      });
      return synth(c);
    };

    test('ingress-nginx speaks HTTPS to it: backend-protocol on the Ingress (snapshot)', async () => {
      const s = withController(IngressController.INGRESS_NGINX, { 'cert-manager.io/cluster-issuer': 'letsencrypt' });
      await expect(Yaml.stringify(s.find('Ingress'), s.find('Service', 'pushgateway'))).toMatchFileSnapshot('__snapshots__/pushgateway-ingress-tls.k8s.yaml');
      expect(s.find('Ingress').metadata.annotations).toEqual({
        'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS', 'cert-manager.io/cluster-issuer': 'letsencrypt',
      });
      expect(s.find('Service', 'pushgateway').metadata.annotations).toBeUndefined();
    });

    test('Traefik: serversscheme https on the Service, where Traefik reads it', () => {
      const s = withController(IngressController.TRAEFIK);
      expect(s.find('Service', 'pushgateway').metadata.annotations).toEqual({ 'traefik.ingress.kubernetes.io/service.serversscheme': 'https' });
      expect(s.find('Ingress').metadata.annotations).toBeUndefined();
    });

    test('HAProxy: server-ssl on the Ingress; another controller: its own annotations', () => {
      expect(withController(IngressController.HAPROXY).find('Ingress').metadata.annotations).toEqual({ 'haproxy.org/server-ssl': 'true' });
      const custom = withController(IngressController.custom('contour', { serviceAnnotations: { 'projectcontour.io/upstream-protocol.tls': 'http' } }));
      expect(custom.find('Service', 'pushgateway').metadata.annotations).toEqual({ 'projectcontour.io/upstream-protocol.tls': 'http' });
    });

    test('accepts the annotation given by hand; a controller adds nothing to a plain-HTTP Pushgateway', () => {
      const byHand = withController(undefined, { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' });
      expect(byHand.find('Ingress').metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' });
      const c = chart();
      new Pushgateway(c, 'Pushgateway', {
        webConfig: { secretName: 'web', clientSecretName: 'client' },
        ingress: { host: 'm.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('i')], controller: IngressController.TRAEFIK },
      });
      expect(synth(c).find('Ingress').metadata.annotations).toBeUndefined();
      expect(synth(c).find('Service', 'pushgateway').metadata.annotations).toBeUndefined();
    });

    test('fails without a controller, naming the fix', () => {
      expect(() => withController()).toThrow(/invalid ingress.controller null: the Pushgateway serves HTTPS .* set ingress.controller to IngressController.INGRESS_NGINX, IngressController.TRAEFIK or IngressController.HAPROXY/);
    });

    test('fails with a custom controller without annotations', () => {
      expect(() => withController(IngressController.custom('mine', {}))).toThrow(/invalid ingress.controller "mine": give the annotations/);
    });
  });
});

describe('Pushgateway: what the Helm chart offers', () => {
  const c = chart();
  new Pushgateway(c, 'Pushgateway', {
    serviceType: ServiceType.LOAD_BALANCER,
    serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' },
    serviceAccountAnnotations: { 'iam.gke.io/gcp-service-account': 'pushgateway@project.iam.gserviceaccount.com' },
    serviceMonitorLabels: { release: 'prometheus', team: 'platform' },
    relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
    metricRelabelings: [{ action: ServiceMonitorSpecEndpointsMetricRelabelingsAction.DROP, sourceLabels: ['__name__'], regex: 'go_gc_.*' }],
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'pushgateway' } } }],
    extraVolumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
    extraVolumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    // The Helm chart admits every namespace: asked for by name here.
    pushers: [PushgatewayPeer.anyNamespace(), PushgatewayPeer.ipBlock('10.20.0.0/16')],
  });
  const s = synth(c);
  const pod = s.find('Deployment').spec.template.spec;

  test('snapshot', async () => {
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-helm-parity.k8s.yaml');
  });

  test('Service type and annotations; ServiceAccount annotations', () => {
    const svc = s.find('Service');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' });
    expect(s.find('ServiceAccount').metadata.annotations).toEqual({ 'iam.gke.io/gcp-service-account': 'pushgateway@project.iam.gserviceaccount.com' });
  });

  test('ServiceMonitor labels beside the object labels; relabelings on the endpoint', () => {
    const sm = s.find('ServiceMonitor');
    expect(sm.metadata.labels).toMatchObject({ release: 'prometheus', team: 'platform', 'app.kubernetes.io/name': 'pushgateway' });
    expect(s.find('Service').metadata.labels).not.toHaveProperty('release');
    expect(sm.spec.endpoints[0].relabelings).toEqual([{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }]);
    expect(sm.spec.endpoints[0].metricRelabelings).toEqual([{ action: 'drop', sourceLabels: ['__name__'], regex: 'go_gc_.*' }]);
  });

  test('topology spread, extra volumes and mounts on the pod, after the construct\'s own', () => {
    expect(pod.topologySpreadConstraints).toHaveLength(1);
    expect(pod.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'pushgateway-data' } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }, { name: 'tmp', mountPath: '/tmp' }]);
  });

  test('the NetworkPolicy admits the address range of the clients outside the cluster', () => {
    expect(s.find('NetworkPolicy').spec.ingress[0].from).toContainEqual({ ipBlock: { cidr: '10.20.0.0/16' } });
  });

  test('IPv6 address ranges are admitted too', () => {
    expect(PushgatewayPeer.ipBlock('2001:db8::/64')._toKube()).toEqual({ ipBlock: { cidr: '2001:db8::/64' } });
  });

  test('a NodePort Service without a NetworkPolicy needs no address range', () => {
    const c2 = chart();
    new Pushgateway(c2, 'Pushgateway', { serviceType: ServiceType.NODE_PORT, networkPolicy: false });
    expect(synth(c2).find('Service').spec.type).toBe('NodePort');
  });
});

describe('Pushgateway validation', () => {
  test('replicas > 1 run as a StatefulSet (see pushgateway-replicas.test.ts)', () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', { replicas: 2 });
    expect(synth(c).all('Deployment')).toHaveLength(0);
  });

  test.each([0, -1, 1.5])('fails with %s replicas', (replicas) => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { replicas }))
      .toThrow(new RegExp(`test/Pushgateway: invalid replicas ${replicas}: use a whole number of at least 1`));
  });

  test('fails with a persistence interval that is not positive', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { persistenceInterval: Duration.seconds(0) }))
      .toThrow(/invalid persistenceInterval "0 seconds": use a duration greater than zero/);
  });

  test.each(['Pushgateway', 'push_gateway', '-pgw', 'a'.repeat(54)])('fails with the invalid name %s', (name) => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { name }))
      .toThrow(new RegExp(`invalid name "${name}": use at most 53 lower-case letters`));
  });

  test('fails with an invalid namespace', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { namespace: 'Monitoring' })).toThrow(/invalid namespace "Monitoring"/);
  });

  test('fails without any namespace', () => {
    expect(() => new Pushgateway(Testing.chart(), 'Pushgateway')).toThrow(/^test\/Pushgateway: missing namespace: set a namespace on the chart/);
  });

  test('fails with a route prefix without a leading slash', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { routePrefix: 'pushgateway' }))
      .toThrow(/invalid routePrefix "pushgateway": start the path with "\/", e.g. "\/pushgateway"/);
  });

  test('fails with a route prefix with a trailing slash', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { routePrefix: '/pushgateway/' })).toThrow(/remove the trailing "\/"/);
  });

  test('fails with a telemetry path without a leading slash', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { telemetryPath: 'metrics' })).toThrow(/invalid telemetryPath "metrics"/);
  });

  test.each([0, 65536, 80.5, -1])('fails with the port %s out of range', (port) => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { port })).toThrow(new RegExp(`invalid port ${port}: use a whole number from 1 to 65535`));
  });

  test('fails with a managed flag in extraArgs', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { extraArgs: ['--persistence.file=/tmp/x'] }))
      .toThrow(/invalid extraArgs "--persistence.file=\/tmp\/x": remove it: --persistence.file is set by the construct/);
  });

  test('fails with a scrape timeout longer than the interval', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { scrapeTimeout: Duration.seconds(20) })).toThrow(/invalid scrapeTimeout "20 seconds": use at most scrapeInterval \(15 seconds\)/);
  });

  test('fails with an invalid pod label', () => {
    expect(() => new Pushgateway(chart(), 'Pushgateway', { podLabels: { team: 'data team' } })).toThrow(/invalid podLabels\["team"\] "data team"/);
  });

  test('fails with an invalid kube-prometheus-stack release', () => {
    expect(() => KubePrometheusFlavour.kubePrometheusStack({ release: 'My Release' })).toThrow(/invalid release "My Release"/);
  });
});
