import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ServiceMonitor, ServiceMonitorSpecEndpointsScheme } from '../imports/monitoring.coreos.com';
import { toPrometheusDuration } from './prometheus-duration';
import { scrapeBasicAuth, scrapeTlsConfig } from './pushgateway-auth';
import { HEADLESS_LABEL, ResolvedPushgateway } from './pushgateway-resolve';

// What lets kube-prometheus's Prometheus find and scrape the Pushgateway.

export function addServiceMonitor(scope: Construct, r: ResolvedPushgateway): ServiceMonitor {
  const props = r.props;
  return new ServiceMonitor(scope, 'ServiceMonitor', {
    metadata: r.metadata(r.name, { ...props.serviceMonitorLabels, ...r.flavour.monitorLabels() }),
    spec: {
      // The headless Service selects the same pods: the regular one alone gives one target per replica.
      selector: { matchLabels: r.selectorLabels, matchExpressions: r.ha ? [{ key: HEADLESS_LABEL, operator: 'DoesNotExist' }] : undefined },
      endpoints: [{
        port: r.ports[0].name,
        path: `${r.routePrefix}${r.telemetryPath}`,
        // Without it every pushed `job` label would arrive as `exported_job`.
        honorLabels: true,
        interval: toPrometheusDuration(r.scrapeInterval),
        scrapeTimeout: props.scrapeTimeout ? toPrometheusDuration(props.scrapeTimeout) : undefined,
        scheme: r.tls ? ServiceMonitorSpecEndpointsScheme.HTTPS : undefined,
        tlsConfig: scrapeTlsConfig(r.clientAuth.ca, `${r.name}.${r.namespace}.svc`),
        basicAuth: scrapeBasicAuth(r.clientAuth.basicAuth),
        relabelings: props.relabelings,
        metricRelabelings: props.metricRelabelings,
      }],
    },
  });
}

/**
 * kube-prometheus's Prometheus may only discover targets in a few namespaces; elsewhere it needs
 * the same Role its jsonnet would generate for an extra namespace, bound to its ServiceAccount.
 */
export function addPrometheusDiscoveryRbac(scope: Construct, r: ResolvedPushgateway): void {
  const name = `${r.flavour.prometheusServiceAccount}-${r.name}`;
  const role = new k8s.KubeRole(scope, 'PrometheusDiscoveryRole', {
    metadata: r.metadata(name),
    rules: [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  new k8s.KubeRoleBinding(scope, 'PrometheusDiscoveryRoleBinding', {
    metadata: r.metadata(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
    subjects: [{ kind: 'ServiceAccount', name: r.flavour.prometheusServiceAccount, namespace: r.flavour.namespace }],
  });
}
