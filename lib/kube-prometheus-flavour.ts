import { checkDnsLabel, checkRequired, invalidInput, isDnsLabel, REQUIRED_STRING } from './validation';

/** Options for `KubePrometheusFlavour.kubePrometheus()`. */
export interface KubePrometheusOptions {
  /**
   * Namespace of the Prometheus, Grafana and Alertmanager pods.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * ServiceAccount of the Prometheus server, in `namespace`.
   * @default 'prometheus-k8s'
   */
  readonly prometheusServiceAccount?: string;
  /**
   * Namespaces where Prometheus may already discover targets (its `prometheus-k8s` Roles).
   * @default - 'default', 'kube-system' and `namespace`, as kube-prometheus ships them
   */
  readonly discoverableNamespaces?: string[];
}

/** Options for `KubePrometheusFlavour.kubePrometheusStack()`. */
export interface KubePrometheusStackOptions {
  /** The Helm release name of kube-prometheus-stack; its Prometheus selects objects labelled `release: <name>`. */
  readonly release: string;
  /**
   * Namespace the release is installed in.
   * @default 'monitoring'
   */
  readonly namespace?: string;
}

/**
 * The kube-prometheus distribution the manifests are for. It answers every question where the
 * two flavours differ, so that no construct hard-codes one: which labels make Prometheus select a
 * ServiceMonitor or PrometheusRule, where Prometheus may discover targets, which pods are
 * Prometheus, and which labels make Grafana's sidecar load a dashboard.
 */
export class KubePrometheusFlavour {
  /** kube-prometheus (the jsonnet manifests of prometheus-operator/kube-prometheus). */
  public static kubePrometheus(options: KubePrometheusOptions = {}): KubePrometheusFlavour {
    const where = 'KubePrometheusFlavour.kubePrometheus()';
    const namespace = options.namespace ?? 'monitoring';
    checkDnsLabel(where, 'namespace', namespace);
    const prometheusServiceAccount = options.prometheusServiceAccount ?? 'prometheus-k8s';
    checkDnsLabel(where, 'prometheusServiceAccount', prometheusServiceAccount, 253);
    for (const ns of options.discoverableNamespaces ?? []) checkDnsLabel(where, 'discoverableNamespaces entry', ns);
    return new KubePrometheusFlavour({
      namespace,
      prometheusServiceAccount,
      discoverableNamespaces: options.discoverableNamespaces ?? ['default', 'kube-system', namespace],
      monitorLabels: {},
      // kube-prometheus's own rules carry these; anyone who tightened ruleSelector relies on them
      ruleLabels: { prometheus: 'k8s', role: 'alert-rules' },
    });
  }

  /** kube-prometheus-stack (the prometheus-community Helm chart). */
  public static kubePrometheusStack(options: KubePrometheusStackOptions): KubePrometheusFlavour {
    const where = 'KubePrometheusFlavour.kubePrometheusStack()';
    checkRequired(where, 'KubePrometheusStackOptions', options, { release: REQUIRED_STRING });
    if (!isDnsLabel(options.release, 53)) {
      throw invalidInput(where, 'release', options.release,
        'use the Helm release name of kube-prometheus-stack, as in `helm list -n monitoring` (lower-case letters, digits, "-")');
    }
    const namespace = options.namespace ?? 'monitoring';
    checkDnsLabel(where, 'namespace', namespace);
    return new KubePrometheusFlavour({
      namespace,
      prometheusServiceAccount: `${options.release}-kube-prometheus-prometheus`,
      discoverableNamespaces: undefined,
      monitorLabels: { release: options.release },
      ruleLabels: { release: options.release },
    });
  }

  /** Namespace of Prometheus and Grafana. */
  public readonly namespace: string;
  /** ServiceAccount the Prometheus server runs as, in `namespace`. */
  public readonly prometheusServiceAccount: string;
  private readonly discoverableNamespaces?: string[];
  private readonly _monitorLabels: Record<string, string>;
  private readonly _ruleLabels: Record<string, string>;

  private constructor(spec: {
    namespace: string;
    prometheusServiceAccount: string;
    discoverableNamespaces?: string[];
    monitorLabels: Record<string, string>;
    ruleLabels: Record<string, string>;
  }) {
    this.namespace = spec.namespace;
    this.prometheusServiceAccount = spec.prometheusServiceAccount;
    this.discoverableNamespaces = spec.discoverableNamespaces;
    this._monitorLabels = spec.monitorLabels;
    this._ruleLabels = spec.ruleLabels;
  }

  /** Labels a ServiceMonitor or PodMonitor needs so that Prometheus selects it. */
  public monitorLabels(): Record<string, string> {
    return { ...this._monitorLabels };
  }

  /** Labels a PrometheusRule needs so that Prometheus loads it. */
  public ruleLabels(): Record<string, string> {
    return { ...this._ruleLabels };
  }

  /** Labels of the Prometheus server pods (set by prometheus-operator in both flavours), for NetworkPolicies. */
  public prometheusPodLabels(): Record<string, string> {
    return { 'app.kubernetes.io/name': 'prometheus' };
  }

  /** Labels that make the Grafana sidecar load a dashboard ConfigMap (harmless where there is no sidecar). */
  public dashboardLabels(): Record<string, string> {
    return { grafana_dashboard: '1' };
  }

  /**
   * Whether Prometheus needs a Role and RoleBinding to discover targets in `namespace`:
   * kube-prometheus grants discovery only in a few namespaces, kube-prometheus-stack everywhere.
   */
  public needsDiscoveryRbac(namespace: string): boolean {
    return this.discoverableNamespaces !== undefined && !this.discoverableNamespaces.includes(namespace);
  }
}
