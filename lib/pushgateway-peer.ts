import { k8s } from 'cdk8s-plus-27';
import { checkDnsLabel, checkKubernetesLabels } from './validation';

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
    return new PushgatewayPeer(labels, namespace ? { 'kubernetes.io/metadata.name': namespace } : {});
  }

  /** Every pod in `namespace`. */
  public static allPodsInNamespace(namespace: string): PushgatewayPeer {
    checkDnsLabel('PushgatewayPeer.allPodsInNamespace()', 'namespace', namespace);
    return new PushgatewayPeer({}, { 'kubernetes.io/metadata.name': namespace });
  }

  /** Every pod in every namespace carrying all of `labels`. */
  public static namespacesWithLabels(labels: Record<string, string>): PushgatewayPeer {
    checkKubernetesLabels('PushgatewayPeer.namespacesWithLabels()', 'labels', labels);
    return new PushgatewayPeer({}, labels);
  }

  private constructor(
    private readonly podLabels: Record<string, string>,
    private readonly namespaceLabels: Record<string, string>,
  ) {}

  /** @internal */
  public _toKube(): k8s.NetworkPolicyPeer {
    // A namespaceSelector is always set: a bare podSelector would only ever match the policy's own namespace.
    const select = (labels: Record<string, string>) => (Object.keys(labels).length ? { matchLabels: labels } : {});
    return { namespaceSelector: select(this.namespaceLabels), podSelector: select(this.podLabels) };
  }
}
