import { isIP } from 'node:net';
import { k8s } from 'cdk8s-plus-27';
import { PUSHER_LABEL, PUSHERS_NAMESPACE_LABEL } from './names';
import { checkDnsLabel, checkKubernetesLabels, invalidInput } from './validation';

// Set by Kubernetes on every namespace: the way to select one namespace by name.
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Pods allowed to reach the Pushgateway through its NetworkPolicy.
 */
export class PushgatewayPeer {
  /**
   * Pods carrying all of `labels`, in `namespace`, or in every namespace when none is given.
   */
  public static podsWithLabels(labels: Record<string, string>, namespace?: string): PushgatewayPeer {
    checkKubernetesLabels('PushgatewayPeer.podsWithLabels()', 'labels', labels);
    if (namespace !== undefined) checkDnsLabel('PushgatewayPeer.podsWithLabels()', 'namespace', namespace);
    return PushgatewayPeer.pods(labels, namespace ? { [NAMESPACE_NAME_LABEL]: namespace } : {});
  }

  /** Every pod in `namespace`. */
  public static allPodsInNamespace(namespace: string): PushgatewayPeer {
    checkDnsLabel('PushgatewayPeer.allPodsInNamespace()', 'namespace', namespace);
    return PushgatewayPeer.pods({}, { [NAMESPACE_NAME_LABEL]: namespace });
  }

  /**
   * Pods labelled `batch-monitoring.io/pusher: "true"` in every namespace. Any tenant can set that
   * label on its own pods, so this admits every namespace of the cluster: ask for it only when that
   * is what you mean.
   */
  public static anyNamespace(): PushgatewayPeer {
    return PushgatewayPeer.pods({ [PUSHER_LABEL]: 'true' }, {});
  }

  /** Every pod in every namespace carrying all of `labels`. */
  public static namespacesWithLabels(labels: Record<string, string>): PushgatewayPeer {
    checkKubernetesLabels('PushgatewayPeer.namespacesWithLabels()', 'labels', labels);
    return PushgatewayPeer.pods({}, labels);
  }

  /** @internal Pusher-labelled pods of `namespaces`, in one peer however many there are. */
  public static _pushersIn(namespaces: string[]): PushgatewayPeer {
    return new PushgatewayPeer({
      namespaceSelector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...namespaces].sort() }] },
      podSelector: { matchLabels: { [PUSHER_LABEL]: 'true' } },
    });
  }

  /** @internal Pusher-labelled pods of the namespaces an admin labelled `batch-monitoring.io/pushers: "true"`. */
  public static _labelledNamespaces(): PushgatewayPeer {
    return PushgatewayPeer.pods({ [PUSHER_LABEL]: 'true' }, { [PUSHERS_NAMESPACE_LABEL]: 'true' });
  }

  private static pods(podLabels: Record<string, string>, namespaceLabels: Record<string, string>): PushgatewayPeer {
    // A namespaceSelector is always set: a bare podSelector would only ever match the policy's own namespace.
    const select = (labels: Record<string, string>) => (Object.keys(labels).length ? { matchLabels: labels } : {});
    return new PushgatewayPeer({ namespaceSelector: select(namespaceLabels), podSelector: select(podLabels) });
  }

  /**
   * Clients outside the cluster in the address range `cidr` (e.g. `203.0.113.0/24`), for a NodePort
   * or LoadBalancer Service. Behind a Service with `externalTrafficPolicy: Cluster` (the default)
   * their packets arrive from the nodes' addresses: give the nodes' range then.
   */
  public static ipBlock(cidr: string): PushgatewayPeer {
    const [address, prefix, ...rest] = typeof cidr === 'string' ? cidr.split('/') : [];
    const version = isIP(address ?? '');
    if (!version || rest.length || !/^\d{1,3}$/.test(prefix ?? '') || Number(prefix) > (version === 4 ? 32 : 128)) {
      throw invalidInput('PushgatewayPeer.ipBlock()', 'cidr', cidr, 'use an address range such as "203.0.113.0/24" or "2001:db8::/64"');
    }
    return new PushgatewayPeer({ ipBlock: { cidr } });
  }

  private constructor(private readonly peer: k8s.NetworkPolicyPeer) {}

  /** @internal */
  public _toKube(): k8s.NetworkPolicyPeer {
    return this.peer;
  }

  /** @internal The one namespace this admits pods of, if it is confined to one. */
  public _namespace(): string | undefined {
    return this.peer.namespaceSelector?.matchLabels?.[NAMESPACE_NAME_LABEL];
  }

  /** @internal Whether this admits addresses outside the cluster. */
  public _isAddressRange(): boolean {
    return this.peer.ipBlock !== undefined;
  }
}
