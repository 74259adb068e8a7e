import { Lazy } from 'cdk8s';
import { k8s, ServiceType } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PushgatewayPeer } from './pushgateway-peer';
import { HEADLESS_LABEL, ResolvedPushgateway } from './pushgateway-resolve';
import { IngressControllerTlsAnnotations, PushgatewayIngress } from './pushgateway-web-config';

// How clients reach the Pushgateway: its Service, the headless Service that names each replica,
// an Ingress, and the NetworkPolicy that admits Prometheus and the pushers only.

export function addService(scope: Construct, r: ResolvedPushgateway): k8s.KubeService {
  const annotations = { ...backendTls(r)?.serviceAnnotations, ...r.props.serviceAnnotations };
  return new k8s.KubeService(scope, 'Service', {
    metadata: { ...r.metadata(r.name), annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: { type: r.props.serviceType ?? ServiceType.CLUSTER_IP, selector: r.selectorLabels, ports: servicePorts(r) },
  });
}

/** The Service that gives each replica of the StatefulSet its address. */
export function addHeadlessService(scope: Construct, r: ResolvedPushgateway): k8s.KubeService {
  return new k8s.KubeService(scope, 'HeadlessService', {
    metadata: r.metadata(r.headlessName, { [HEADLESS_LABEL]: 'true' }),
    spec: { clusterIp: 'None', selector: r.selectorLabels, ports: servicePorts(r) },
  });
}

export function addIngress(scope: Construct, r: ResolvedPushgateway, ingress: PushgatewayIngress): k8s.KubeIngress {
  const annotations = { ...backendTls(r)?.ingressAnnotations, ...ingress.annotations };
  return new k8s.KubeIngress(scope, 'Ingress', {
    metadata: { ...r.metadata(r.name), annotations: Object.keys(annotations).length ? annotations : undefined },
    spec: {
      ingressClassName: ingress.className,
      tls: ingress.tlsSecretName ? [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }] : undefined,
      rules: [{
        host: ingress.host,
        http: {
          paths: [{
            path: r.routePrefix || '/',
            pathType: 'Prefix',
            backend: { service: { name: r.name, port: { name: r.ports[0].name } } },
          }],
        },
      }],
    },
  });
}

/**
 * Admits Prometheus, the pushers and the ingress controller to the Pushgateway's ports, and nobody
 * else. The pushers: pusher-labelled pods of the Pushgateway's namespace and of the namespaces jobs
 * are declared in (`pushingNamespaces`, read at synth, once every job is declared), of namespaces an
 * admin labelled, and the peers given.
 */
export function addNetworkPolicy(scope: Construct, r: ResolvedPushgateway, pushingNamespaces: () => string[]): k8s.KubeNetworkPolicy {
  const prometheus = PushgatewayPeer.podsWithLabels(r.flavour.prometheusPodLabels(), r.flavour.namespace);
  const from = () => [
    prometheus,
    PushgatewayPeer._pushersIn(pushingNamespaces()),
    ...(r.props.admitLabelledNamespaces ?? true ? [PushgatewayPeer._labelledNamespaces()] : []),
    ...r.props.pushers ?? [],
    ...r.props.ingress?.controllerPeers ?? [],
  ].map((peer) => peer._toKube());
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: r.metadata(r.name),
    spec: {
      podSelector: { matchLabels: r.selectorLabels },
      policyTypes: ['Ingress'],
      ingress: [{
        from: Lazy.any({ produce: from }) as unknown as k8s.NetworkPolicyPeer[],
        ports: r.ports.map(({ port }) => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })),
      }],
    },
  });
}

/** What tells the ingress controller to speak TLS to a Pushgateway that serves HTTPS. */
function backendTls(r: ResolvedPushgateway): IngressControllerTlsAnnotations | undefined {
  return r.tls ? r.props.ingress?.controller?.backendTls : undefined;
}

function servicePorts(r: ResolvedPushgateway): k8s.ServicePort[] {
  return r.ports.map(({ name, port }) => ({ name, port, targetPort: k8s.IntOrString.fromString(name), protocol: 'TCP' }));
}
