import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { BatchMonitoringChart, IngressController, MonitoredCronJob, Pushgateway, PushgatewayPeer, PushgatewayVolumeAccessMode } from '../lib';
import { restrictedViolations } from './helpers/pod-security';
import { synth, Synthesized } from './helpers/synth';

function chart(namespace = 'monitoring'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

/** Whether a label selector (matchLabels and matchExpressions) selects an object with `labels`. */
function selects(selector: any, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e: any) => {
    switch (e.operator) {
      case 'DoesNotExist': return !(e.key in labels);
      case 'Exists': return e.key in labels;
      case 'In': return e.values.includes(labels[e.key]);
      case 'NotIn': return !e.values.includes(labels[e.key]);
      default: throw new Error(`unknown operator ${e.operator}`);
    }
  });
  return byLabel && byExpression;
}

/** The scrape targets the ServiceMonitor yields: one per pod endpoint of each selected Service with its port. */
function scrapeTargets(s: Synthesized, replicas: number): string[] {
  const sm = s.find('ServiceMonitor');
  const services = s.all('Service').filter((svc) => selects(sm.spec.selector, svc.metadata.labels)
    && svc.spec.ports.some((p: any) => sm.spec.endpoints.some((e: any) => e.port === p.name)));
  return services.flatMap((svc) => Array.from({ length: replicas }, (_, i) => `${svc.metadata.name}/pushgateway-${i}`));
}

describe('Pushgateway with replicas (high availability)', () => {
  const c = chart();
  const pgw = new Pushgateway(c, 'Pushgateway', { replicas: 2 });
  const s = synth(c);
  const sts = s.find('StatefulSet');
  const pod = sts.spec.template.spec;
  const container = pod.containers[0];

  test('snapshot', async () => {
    await expect(s.yaml).toMatchFileSnapshot('__snapshots__/pushgateway-replicas.k8s.yaml');
  });

  test('a StatefulSet, a Service, a headless Service and a PodDisruptionBudget; no Deployment, no shared claim', () => {
    expect(s.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/pushgateway', 'StatefulSet/pushgateway', 'Service/pushgateway', 'Service/pushgateway-headless',
      'PodDisruptionBudget/pushgateway', 'ServiceMonitor/pushgateway', 'NetworkPolicy/pushgateway',
    ]);
    expect(pgw.deployment).toBeUndefined();
    expect(pgw.statefulSet).toBeDefined();
  });

  test('one volume per replica from a claim template, each replica its own persistence file', () => {
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'data', labels: pgw.selectorLabels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
    }]);
    // The claim template's labels never change with the image: the template is immutable.
    expect(sts.spec.volumeClaimTemplates[0].metadata.labels).not.toHaveProperty('app.kubernetes.io/version');
    expect(pod.volumes).toBeUndefined();
    expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(container.args).toContain('--persistence.file=/data/pushgateway.data');
  });

  test('the headless Service gives each replica a stable address; replicaUrls name them', () => {
    const headless = s.find('Service', 'pushgateway-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(sts.spec.serviceName).toBe('pushgateway-headless');
    expect(headless.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(pgw.replicas).toBe(2);
    expect(pgw.replicaUrls).toEqual([
      'http://pushgateway-0.pushgateway-headless.monitoring.svc:9091',
      'http://pushgateway-1.pushgateway-headless.monitoring.svc:9091',
    ]);
    // Reads and single pushes still go through the regular Service.
    expect(s.find('Service', 'pushgateway').spec.type).toBe('ClusterIP');
    expect(pgw.url).toBe('http://pushgateway.monitoring.svc:9091');
  });

  test('Prometheus scrapes each replica once: the ServiceMonitor selects the regular Service, not the headless one', () => {
    expect(scrapeTargets(s, 2)).toEqual(['pushgateway/pushgateway-0', 'pushgateway/pushgateway-1']);
  });

  test('the target check would see a doubled scrape', () => {
    const sm = s.find('ServiceMonitor');
    const doubled = { ...s, find: (kind: string, name?: string) => (kind === 'ServiceMonitor' ? { ...sm, spec: { ...sm.spec, selector: { matchLabels: sm.spec.selector.matchLabels } } } : s.find(kind, name)) };
    expect(scrapeTargets(doubled, 2)).toHaveLength(4);
  });

  test('a PodDisruptionBudget lets a drain take one replica at a time', () => {
    const pdb = s.find('PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: pgw.selectorLabels }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test('replicas spread over nodes (never two on one node) and over zones where possible; replicas start in parallel', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: pgw.selectorLabels } },
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: pgw.selectorLabels } },
    ]);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
  });

  test('the NetworkPolicy covers every replica', () => {
    expect(selects(s.find('NetworkPolicy').spec.podSelector, sts.spec.template.metadata.labels)).toBe(true);
  });
});

describe('Pushgateway replicas: options', () => {
  test('three replicas, own spread, minAvailable, no persistence: no claim template', () => {
    const c = chart();
    const pgw = new Pushgateway(c, 'Pushgateway', {
      replicas: 3,
      persistence: false,
      disruptionBudget: { minAvailable: 2 },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'pushgateway' } } }],
    });
    const s = synth(c);
    const sts = s.find('StatefulSet');
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.containers[0].args.join(' ')).not.toMatch(/persistence/);
    expect(sts.spec.template.spec.topologySpreadConstraints.map((t: any) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone']);
    expect(s.find('PodDisruptionBudget').spec).toMatchObject({ minAvailable: 2, selector: { matchLabels: pgw.selectorLabels } });
    expect(pgw.replicaUrls).toHaveLength(3);
  });

  test('an empty spread list leaves the scheduling to affinity', () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', {
      replicas: 2,
      topologySpreadConstraints: [],
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'pushgateway' } } }] } },
    });
    const pod = synth(c).find('StatefulSet').spec.template.spec;
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
  });

  test('storage class, size and access mode apply to each replica\'s claim', () => {
    const c = chart();
    new Pushgateway(c, 'Pushgateway', {
      replicas: 2, persistenceStorageClass: 'fast-ssd', persistenceSize: Size.gibibytes(1), persistenceAccessMode: PushgatewayVolumeAccessMode.READ_WRITE_ONCE_POD,
    });
    expect(synth(c).find('StatefulSet').spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOncePod'], storageClassName: 'fast-ssd', resources: { requests: { storage: '1Gi' } },
    });
  });

  test('web config and Ingress work unchanged; per-replica URLs are https with the route prefix', () => {
    const c = chart();
    const pgw = new Pushgateway(c, 'Pushgateway', {
      replicas: 2,
      routePrefix: '/pushgateway',
      webConfig: { secretName: 'web', tlsSecretName: 'tls', clientSecretName: 'client' },
      ingress: { host: 'push.example.com', controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')], controller: IngressController.INGRESS_NGINX },
    });
    const s = synth(c);
    expect(s.find('Ingress').metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' });
    expect(pgw.replicaUrls).toEqual([
      'https://pushgateway-0.pushgateway-headless.monitoring.svc:9091/pushgateway',
      'https://pushgateway-1.pushgateway-headless.monitoring.svc:9091/pushgateway',
    ]);
    const pod = s.find('StatefulSet').spec.template.spec;
    expect(pod.volumes.map((v: any) => v.name)).toEqual(['web-config', 'tls']);
    expect(pod.containers[0].volumeMounts.map((m: any) => m.name)).toEqual(['data', 'web-config', 'tls']);
    // The Ingress sends each push to one replica, through the regular Service.
    expect(s.find('Ingress').spec.rules[0].http.paths[0].backend.service.name).toBe('pushgateway');
    expect(s.find('ServiceMonitor').spec.endpoints[0].tlsConfig.serverName).toBe('pushgateway.monitoring.svc');
  });
});

describe('Pushgateway replicas: pushers write to every replica', () => {
  const monitoring = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { replicas: 2 }, cleanup: {} });
  new MonitoredCronJob(monitoring, 'Export', {
    monitoring,
    jobName: 'hourly-export',
    interval: Duration.hours(1),
    maxDuration: Duration.minutes(10),
    schedule: Cron.hourly(),
    containers: [{ name: 'export', image: 'registry.example.com/export:2.0.1', securityContext: { user: 10001, group: 10001 } }],
  });
  const s = synth(monitoring);
  const urls = 'http://pushgateway-0.pushgateway-headless.monitoring.svc:9091,http://pushgateway-1.pushgateway-headless.monitoring.svc:9091';

  test('MonitoredCronJob containers get PUSHGATEWAY_URLS beside PUSHGATEWAY_URL', () => {
    const env = s.find('CronJob', 'hourly-export').spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' });
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_URLS', value: urls });
  });

  test('the cleanup is given every replica, not the Service (which reaches one at random)', () => {
    const container = s.find('CronJob', 'pushgateway-cleanup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.env).toEqual([
      { name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' },
      { name: 'PUSHGATEWAY_URLS', value: urls },
    ]);
    expect(container.args.join(' ')).not.toMatch(/--url/);
  });

  test('with one replica, neither gets PUSHGATEWAY_URLS', () => {
    const single = new BatchMonitoringChart(Testing.app(), 'test', { cleanup: {} });
    const pgw = single.pushgateway;
    expect(pgw.replicaUrls).toEqual([pgw.url]);
    const names = synth(single).all('CronJob').flatMap((cj) => cj.spec.jobTemplate.spec.template.spec.containers[0].env ?? []).map((e: any) => e.name);
    expect(names).not.toContain('PUSHGATEWAY_URLS');
  });
});

describe('docs/pushgateway.md: moving a single-replica install to replicas', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', 'docs', 'pushgateway.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Moving an existing single-replica install to replicas'));
  const copyPod = parse(section.slice(section.indexOf('```yaml') + 7, section.indexOf('```', section.indexOf('```yaml') + 7)));

  const ha = chart();
  new Pushgateway(ha, 'Pushgateway', { replicas: 2 });
  const sts = synth(ha).find('StatefulSet');

  test('the copy pod mounts the claim of the single replica and the one replica 0 of the StatefulSet will adopt', () => {
    const single = chart();
    new Pushgateway(single, 'Pushgateway');
    const claims = copyPod.spec.volumes.map((v: any) => v.persistentVolumeClaim.claimName);
    expect(claims).toEqual([
      synth(single).find('PersistentVolumeClaim').metadata.name,
      `${sts.spec.volumeClaimTemplates[0].metadata.name}-${sts.metadata.name}-0`,
    ]);
    expect(copyPod.metadata.namespace).toBe(sts.metadata.namespace);
  });

  test('the copy pod passes Pod Security "restricted" and copies the file the Pushgateway reads', () => {
    expect(restrictedViolations(copyPod.spec)).toEqual([]);
    expect(sts.spec.template.spec.containers[0].args).toContain('--persistence.file=/data/pushgateway.data');
    expect(copyPod.spec.containers[0].command).toEqual(['cp', '-v', '/old/pushgateway.data', '/new/pushgateway.data']);
  });
});
