import { ApiObject, App, Chart, Cron, Duration, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { describe, expect, test } from 'vitest';
import {
  BatchMonitoringChart, CleanupCronJob, JobRegistry, MonitoredCronJob, Pushgateway, PushgatewayCaCertificate, PushgatewayPeer,
} from '../lib';
import { synth } from './helpers/synth';

const PREREQUISITES = 'batch-monitoring.io/pushgateway-prerequisites';
// A user's own workload, as Pod Security "restricted" wants it (the manifest checks hold every object to it).
const RESTRICTED: kplus.ContainerSecurityContextProps = { user: 65534, group: 65534, capabilities: { drop: ['ALL' as kplus.Capability] } };

function job(chart: BatchMonitoringChart, jobName: string, namespace?: string): MonitoredCronJob {
  return new MonitoredCronJob(chart, jobName, {
    monitoring: chart,
    jobName,
    maxDuration: Duration.minutes(5),
    schedule: Cron.daily(),
    metadata: namespace ? { namespace } : undefined,
    containers: [{ name: 'main', image: 'registry.example.com/job:1.0.0', command: ['run'] }],
  });
}

const pusherSelector = (namespaces: string[]) => ({
  namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] },
  podSelector: { matchLabels: { [Pushgateway.PUSHER_LABEL]: 'true' } },
});

describe('NetworkPolicy: no tenant admits itself', () => {
  test('admits the namespaces of the jobs declared after the Pushgateway, its own, and admin-labelled ones; not every namespace', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    job(chart, 'export', 'etl');
    chart.addJob({ name: 'report', namespace: 'reports', interval: Duration.days(1), maxDuration: Duration.minutes(5) });
    const from = synth(chart).find('NetworkPolicy').spec.ingress[0].from;
    expect(from).toContainEqual(pusherSelector(['etl', 'monitoring', 'reports']));
    expect(from).toContainEqual({ namespaceSelector: { matchLabels: { [Pushgateway.PUSHERS_NAMESPACE_LABEL]: 'true' } }, podSelector: { matchLabels: { [Pushgateway.PUSHER_LABEL]: 'true' } } });
    expect(from).not.toContainEqual(expect.objectContaining({ namespaceSelector: {} }));
  });

  test('"every namespace" only when asked for by name; admin-labelled namespaces can be left out', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
    new Pushgateway(chart, 'Pushgateway', { pushers: [PushgatewayPeer.anyNamespace()], admitLabelledNamespaces: false });
    const from = synth(chart).find('NetworkPolicy').spec.ingress[0].from;
    expect(from).toContainEqual({ namespaceSelector: {}, podSelector: { matchLabels: { [Pushgateway.PUSHER_LABEL]: 'true' } } });
    expect(JSON.stringify(from)).not.toContain(Pushgateway.PUSHERS_NAMESPACE_LABEL);
  });

  test('jobs of other apps: addExternalJobs admits their namespace', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
    const pushgateway = new Pushgateway(chart, 'Pushgateway');
    pushgateway.addExternalJobs('reports', ['export']);
    expect(synth(chart).find('NetworkPolicy').spec.ingress[0].from).toContainEqual(pusherSelector(['monitoring', 'reports']));
  });

  test('fails when admitLabelledNamespaces is set without the NetworkPolicy', () => {
    expect(() => new Pushgateway(new Chart(Testing.app(), 'test', { namespace: 'monitoring' }), 'Pushgateway', { networkPolicy: false, admitLabelledNamespaces: false }))
      .toThrow(/invalid admitLabelledNamespaces false: it only takes effect through the NetworkPolicy/);
  });
});

describe('grantPush: what a self-pushing workload needs', () => {
  test('the pusher label, the URLs, the credentials and the CA key alone, in each container', async () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { replicas: 2, webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' } },
    });
    const cronJob = new kplus.CronJob(chart, 'Export', {
      schedule: Cron.daily(),
      securityContext: { user: 65534, group: 65534 },
      containers: [{ name: 'export', image: 'registry.example.com/export:1.4.2', securityContext: RESTRICTED }],
    });
    ApiObject.of(cronJob).addJsonPatch(JsonPatch.add('/spec/jobTemplate/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
    chart.pushgateway.grantPush(cronJob, { jobName: 'export' });
    const s = synth(chart);
    const exported = s.all('CronJob').find((c) => c.metadata.name !== 'pushgateway-cleanup');
    await expect(JSON.stringify(exported, null, 2)).toMatchFileSnapshot('__snapshots__/grant-push.json');
    const template = exported.spec.jobTemplate.spec.template;
    expect(template.metadata.labels[Pushgateway.PUSHER_LABEL]).toBe('true');
    expect(template.spec.containers[0].env).toEqual([
      { name: 'PUSHGATEWAY_URL', value: 'https://pushgateway.monitoring.svc:9091' },
      { name: 'PUSHGATEWAY_URLS', value: 'https://pushgateway-0.pushgateway-headless.monitoring.svc:9091,https://pushgateway-1.pushgateway-headless.monitoring.svc:9091' },
      { name: 'BATCH_JOB_NAME', value: 'export' },
      { name: 'PUSHGATEWAY_USERNAME', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'username' } } },
      { name: 'PUSHGATEWAY_PASSWORD', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'password' } } },
      { name: 'PUSHGATEWAY_CA_FILE', value: '/etc/pushgateway-ca/ca.crt' },
    ]);
    expect(template.spec.volumes).toEqual([
      { name: 'pushgateway-ca', secret: { secretName: 'pushgateway-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
    ]);
    expect(JSON.stringify(s.objects)).not.toContain('tls.key');
    // In the Pushgateway's own namespace, nothing more is needed.
    expect(exported.metadata.annotations?.[PREREQUISITES]).toBeUndefined();
  });

  test('in another namespace: admitted, and told what the namespace must hold; per-namespace Secret names', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' } },
    });
    const deployment = new kplus.Deployment(chart, 'Loader', {
      metadata: { namespace: 'etl' },
      securityContext: { user: 65534, group: 65534 },
      containers: [{ image: 'registry.example.com/loader:2.0.0', securityContext: RESTRICTED }],
    });
    ApiObject.of(deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
    chart.pushgateway.grantPush(deployment, {
      basicAuth: { secretName: 'etl-pushgateway', usernameKey: 'user' },
      caCertificate: PushgatewayCaCertificate.fromConfigMap('trust-bundle', 'root.pem'),
    });
    const s = synth(chart);
    const loader = s.all('Deployment').find((d) => d.metadata.namespace === 'etl');
    expect(loader.metadata.annotations[PREREQUISITES]).toBe(
      'namespace etl needs: Secret etl-pushgateway (keys user, password); ConfigMap trust-bundle (key root.pem) with the Pushgateway\'s CA certificate');
    expect(loader.spec.template.spec.volumes).toEqual([{ name: 'pushgateway-ca', configMap: { name: 'trust-bundle', items: [{ key: 'root.pem', path: 'ca.crt' }], defaultMode: 0o444 } }]);
    expect(s.find('NetworkPolicy').spec.ingress[0].from).toContainEqual(pusherSelector(['etl', 'monitoring']));
  });

  test('a MonitoredCronJob in another namespace is told the same', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' } },
    });
    job(chart, 'export', 'etl');
    const cronJob = synth(chart).find('CronJob', 'export');
    expect(cronJob.metadata.annotations[PREREQUISITES]).toBe(
      'namespace etl needs: Secret pushgateway-client (keys username, password); Secret pushgateway-tls (key ca.crt) with the Pushgateway\'s CA certificate');
  });

  test('a team app with an imported Pushgateway is told its namespace must be admitted', () => {
    const app = new App();
    const chart = new Chart(app, 'team', { namespace: 'reports' });
    const pushgateway = Pushgateway.fromPushgatewayAttributes(chart, 'Pushgateway', { name: 'pushgateway', namespace: 'monitoring' });
    const registry = new JobRegistry(chart, 'Jobs', { pushgateway });
    new MonitoredCronJob(chart, 'Export', {
      registry, jobName: 'export', maxDuration: Duration.minutes(5), schedule: Cron.daily(),
      containers: [{ image: 'registry.example.com/export:1.0.0', command: ['export'] }],
    });
    const cronJob = synth(chart).find('CronJob', 'export');
    expect(cronJob.metadata.annotations[PREREQUISITES]).toBe(
      'namespace reports needs: the label batch-monitoring.io/pushers=true on namespace reports (an admin sets it), unless the Pushgateway\'s app admits the namespace');
  });
});

describe('write scope per namespace', () => {
  function scoped(extra: Partial<ConstructorParameters<typeof BatchMonitoringChart>[2]> = {}) {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { writeScope: {} }, ...extra });
    job(chart, 'export', 'etl');
    job(chart, 'report', 'reports');
    return chart;
  }

  test('snapshot: the proxy in the pod, the Pushgateway on 127.0.0.1, the configuration from the declared jobs', async () => {
    const s = synth(scoped());
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-write-scope.k8s.yaml');
  });

  test('the Pushgateway listens on 127.0.0.1 only, behind the proxy on the Service port', () => {
    const s = synth(scoped());
    const pod = s.find('Deployment').spec.template.spec;
    const [pushgateway, proxy] = pod.containers;
    expect(pushgateway.args).toContain('--web.listen-address=127.0.0.1:9092');
    expect(pushgateway.ports).toBeUndefined();
    expect(pushgateway.livenessProbe.exec.command).toEqual(['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:9092/-/healthy']);
    expect(proxy.name).toBe('proxy');
    expect(proxy.image).toBe('nginx:1.28.0-alpine');
    expect(proxy.command).toEqual(['nginx', '-e', 'stderr', '-c', '/etc/pushgateway-proxy/config/nginx.conf', '-g', 'daemon off;']);
    expect(proxy.ports).toEqual([{ name: 'http', containerPort: 9091, protocol: 'TCP' }]);
    expect(proxy.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(proxy.readinessProbe.httpGet.path).toBe('/-/ready');
    expect(s.find('Service').spec.ports).toEqual([{ name: 'http', port: 9091, targetPort: 'http', protocol: 'TCP' }]);
    expect(s.find('NetworkPolicy').spec.ingress[0].ports).toEqual([{ port: 9091, protocol: 'TCP' }]);
  });

  test('the configuration lists each declared job with its namespace, and a user file per namespace from optional Secrets', () => {
    const s = synth(scoped());
    const conf: string = s.find('ConfigMap', 'pushgateway-proxy').data['nginx.conf'];
    expect(conf).toContain('"export" "etl";');
    expect(conf).toContain('"report" "reports";');
    expect(conf).toContain('"pushgateway-cleanup" "monitoring";');
    const volume = s.find('Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'proxy-htpasswd');
    expect(volume.projected.sources).toEqual(['etl', 'monitoring', 'reports'].map((ns) => ({
      secret: { name: `pushgateway-htpasswd-${ns}`, items: [{ key: 'htpasswd', path: ns }], optional: true },
    })));
    expect(s.find('Deployment').spec.template.metadata.annotations['batch-monitoring.io/proxy-config-sha256']).toMatch(/^[0-9a-f]{16}$/);
  });

  test('declaring a job changes the configuration hash, so the pod rolls', () => {
    const hash = (chart: BatchMonitoringChart) => synth(chart).find('Deployment').spec.template.metadata.annotations['batch-monitoring.io/proxy-config-sha256'];
    const more = scoped();
    job(more, 'third', 'etl');
    expect(hash(more)).not.toBe(hash(scoped()));
  });

  test('clients use the namespace\'s Secret; the ServiceMonitor the maintainer\'s; a job elsewhere is told its user name', () => {
    const s = synth(scoped());
    expect(s.find('ServiceMonitor').spec.endpoints[0].basicAuth).toEqual({
      username: { name: 'pushgateway-client', key: 'username' }, password: { name: 'pushgateway-client', key: 'password' },
    });
    expect(s.find('CronJob', 'export').metadata.annotations[PREREQUISITES]).toBe(
      'namespace etl needs: Secret pushgateway-client (keys username, password), its user named etl or etl.<suffix>, '
      + 'with the bcrypt hash of its password in Secret pushgateway-htpasswd-etl (key htpasswd) of namespace monitoring');
  });

  test('with TLS the proxy serves HTTPS, and clients get the CA key only', () => {
    const s = synth(scoped({ pushgateway: { writeScope: { tlsSecretName: 'pushgateway-tls' } } }));
    const pod = s.find('Deployment').spec.template.spec;
    expect(pod.containers[1].volumeMounts).toContainEqual({ name: 'proxy-tls', mountPath: '/etc/pushgateway-proxy/tls', readOnly: true });
    expect(pod.containers[0].volumeMounts ?? []).not.toContainEqual(expect.objectContaining({ name: 'proxy-tls' }));
    expect(s.find('ConfigMap', 'pushgateway-proxy').data['nginx.conf']).toContain('listen 9091 ssl;');
    expect(s.find('ServiceMonitor').spec.endpoints[0].scheme).toBe('https');
    const exportPod = s.find('CronJob', 'export').spec.jobTemplate.spec.template.spec;
    expect(exportPod.volumes).toContainEqual({ name: 'pushgateway-ca', secret: { secretName: 'pushgateway-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } });
  });

  test('with replicas, each replica has its proxy, and each replica URL reaches it', () => {
    const s = synth(scoped({ pushgateway: { writeScope: {}, replicas: 2 } }));
    const pod = s.find('StatefulSet').spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['pushgateway', 'proxy']);
    expect(s.find('Service', 'pushgateway-headless').spec.ports).toEqual([{ name: 'http', port: 9091, targetPort: 'http', protocol: 'TCP' }]);
    const env = s.find('CronJob', 'export').spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_URLS', value: 'http://pushgateway-0.pushgateway-headless.monitoring.svc:9091,http://pushgateway-1.pushgateway-headless.monitoring.svc:9091' });
  });

  test('the admin and lifecycle APIs may be on: the proxy never serves them', () => {
    const chart = scoped({ pushgateway: { writeScope: {}, enableAdminApi: true, enableLifecycle: true } });
    expect(synth(chart).find('Deployment').spec.template.spec.containers[0].args).toContain('--web.enable-admin-api');
  });

  test('fails together with webConfig', () => {
    expect(() => new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { writeScope: {}, webConfig: { secretName: 'pushgateway-web-config' } },
    })).toThrow(/invalid webConfig "pushgateway-web-config": with writeScope the proxy does basic auth and TLS/);
  });

  test('fails with a job name the proxy would have to read escaped', () => {
    const chart = scoped();
    chart.addJob({ name: 'team/etl', namespace: 'etl', interval: Duration.days(1), maxDuration: Duration.minutes(5) });
    expect(() => synth(chart)).toThrow(/invalid name of job declared in namespace etl "team\/etl": under writeScope a job name is sent unescaped/);
  });

  test('fails with a cleanup outside the Pushgateway\'s namespace', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
    const pushgateway = new Pushgateway(chart, 'Pushgateway', { writeScope: {} });
    expect(() => new CleanupCronJob(chart, 'Cleanup', { pushgateway, namespace: 'ops' }))
      .toThrow(/invalid namespace "ops": under writeScope only the credentials of the Pushgateway's namespace \(monitoring\) delete/);
  });

  test('fails with a CA but no TLS', () => {
    expect(() => new Pushgateway(new Chart(Testing.app(), 'test', { namespace: 'monitoring' }), 'Pushgateway', {
      writeScope: { caCertificate: PushgatewayCaCertificate.fromConfigMap('trust-bundle') },
    })).toThrow(/invalid writeScope.caCertificate "trust-bundle": a CA is only used with TLS/);
  });
});

describe('refused at synth', () => {
  const monitoring = () => new Chart(Testing.app(), 'test', { namespace: 'monitoring' });

  test('fails with an Ingress without basic auth', () => {
    expect(() => new Pushgateway(monitoring(), 'Pushgateway', {
      ingress: { host: 'metrics.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')] },
    })).toThrow(/invalid ingress "metrics.example.com": an Ingress without basic auth lets anyone who reaches it write and delete any group/);
  });

  test('an open Ingress only when asked for by name', () => {
    const chart = monitoring();
    new Pushgateway(chart, 'Pushgateway', {
      ingress: { host: 'metrics.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')], allowUnauthenticatedIngress: true },
    });
    expect(synth(chart).all('Ingress')).toHaveLength(1);
  });

  test.each([
    ['enableAdminApi', { enableAdminApi: true }],
    ['enableLifecycle', { enableLifecycle: true }],
  ])('fails with %s while admin-labelled namespaces are admitted', (field, props) => {
    expect(() => new Pushgateway(monitoring(), 'Pushgateway', props))
      .toThrow(new RegExp(`invalid ${field} true: the NetworkPolicy admits pushers of namespaces labelled batch-monitoring.io/pushers: "true", and any of them could wipe or stop the Pushgateway`));
  });

  test('fails with the admin API and pushers of another namespace', () => {
    expect(() => new Pushgateway(monitoring(), 'Pushgateway', { enableAdminApi: true, admitLabelledNamespaces: false, pushers: [PushgatewayPeer.allPodsInNamespace('etl')] }))
      .toThrow(/invalid enableAdminApi true: pushers admits clients outside namespace monitoring/);
    expect(() => new Pushgateway(monitoring(), 'Pushgateway', { enableAdminApi: true, networkPolicy: false }))
      .toThrow(/invalid enableAdminApi true: without the NetworkPolicy every pod of the cluster reaches it/);
  });

  test('fails at synth with the lifecycle API and a job declared in another namespace', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { enableLifecycle: true, admitLabelledNamespaces: false } });
    job(chart, 'export', 'etl');
    expect(() => synth(chart)).toThrow(/invalid enableLifecycle true: pods of namespace etl push here, and could wipe or stop the Pushgateway/);
  });

  test('the admin API with pushers of its own namespace only', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { enableAdminApi: true, admitLabelledNamespaces: false } });
    job(chart, 'export');
    expect(synth(chart).find('Deployment').spec.template.spec.containers[0].args).toContain('--web.enable-admin-api');
  });
});
