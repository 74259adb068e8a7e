import { AbstractPod, k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ServiceMonitor } from '../imports/monitoring.coreos.com';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { DEFAULT_PART_OF, objectLabels } from './object-labels';
import { addHeadlessService, addIngress, addNetworkPolicy, addService } from './pushgateway-exposure';
import { addPrometheusDiscoveryRbac, addServiceMonitor } from './pushgateway-monitoring';
import { PushgatewayProps } from './pushgateway-props';
import { PUSHER_LABEL, PUSHERS_NAMESPACE_LABEL } from './names';
import { pushgatewayUrl, resolvePushgatewayProps, routePrefixOf } from './pushgateway-resolve';
import { checkWriteScopeJobs } from './pushgateway-write-scope';
import { grantPushTo } from './pusher-pod';
import { GrantPushOptions, IPushgateway } from './pushgateway-interface';
import type { ProxyJob } from './write-scope-proxy-config';
import { PushgatewayClientAuth } from './pushgateway-web-config';
import { addDisruptionBudget, addWorkload } from './pushgateway-workload';
import { refuseDuplicateObjects } from './unique-objects';
import { checkDnsLabel, checkLabelValue, checkPort, checkRequired, invalidInput, REQUIRED_STRING } from './validation';

/** What `Pushgateway.fromPushgatewayAttributes` needs to know about a Pushgateway deployed elsewhere. */
export interface PushgatewayAttributes {
  /** The Service name, and the scrape `job` label of the Pushgateway's own metrics. */
  readonly name: string;
  /** Namespace of the Pushgateway's Service. */
  readonly namespace: string;
  /**
   * The Service port.
   * @default 9091
   */
  readonly port?: number;
  /**
   * `http` or `https`.
   * @default 'http'
   */
  readonly scheme?: string;
  /**
   * The route prefix, e.g. `/pushgateway`.
   * @default - none
   */
  readonly routePrefix?: string;
  /**
   * Number of replicas.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * One base URL per replica, when there are several.
   * @default - `[url]`
   */
  readonly replicaUrls?: string[];
  /**
   * Secrets clients authenticate and verify TLS with.
   * @default - none
   */
  readonly clientAuth?: PushgatewayClientAuth;
  /**
   * The flavour of the kube-prometheus that loads the rules.
   * @default KubePrometheusFlavour.kubePrometheus()
   */
  readonly flavour?: KubePrometheusFlavour;
  /**
   * The `app.kubernetes.io/part-of` label of objects declared about it.
   * @default 'batch-monitoring'
   */
  readonly partOf?: string;
}

/**
 * A Prometheus Pushgateway for batch jobs, set up for kube-prometheus: a Deployment with
 * persistence that survives restarts (or, with replicas, a StatefulSet with a volume per replica),
 * a Service, a ServiceMonitor that keeps the pushed `job` labels (`honorLabels`), a NetworkPolicy,
 * and the RBAC Prometheus needs to find it.
 */
export class Pushgateway extends Construct implements IPushgateway {
  /**
   * A Pushgateway this app does not deploy, for declaring jobs, MonitoredCronJobs and their rules
   * against it (the AWS CDK's unowned-resource pattern).
   */
  public static fromPushgatewayAttributes(scope: Construct, id: string, attrs: PushgatewayAttributes): IPushgateway {
    return new ImportedPushgateway(scope, id, attrs);
  }

  /** The pod label that admits a pod to push under the default NetworkPolicy. */
  public static readonly PUSHER_LABEL = PUSHER_LABEL;

  /**
   * The namespace label, set by an admin, that admits the pusher-labelled pods of a namespace
   * (e.g. one whose jobs are declared in another app).
   */
  public static readonly PUSHERS_NAMESPACE_LABEL = PUSHERS_NAMESPACE_LABEL;

  /** The object name, and the scrape `job` label of the Pushgateway's own metrics. */
  public readonly name: string;
  /** Namespace of the Pushgateway objects. */
  public readonly namespace: string;
  /** The Service port. */
  public readonly port: number;
  /** The route prefix, `''` when none. */
  public readonly routePrefix: string;
  /** The in-cluster base URL clients push to, e.g. `http://pushgateway.monitoring.svc:9091`. */
  public readonly url: string;
  /** Number of replicas. */
  public readonly replicas: number;
  /**
   * One base URL per replica, through the headless Service, e.g.
   * `http://pushgateway-0.pushgateway-headless.monitoring.svc:9091`; `[url]` with one replica.
   */
  public readonly replicaUrls: string[];
  /** `https` with a TLS web config, else `http`. */
  public readonly scheme: string;
  /** The Secrets clients authenticate and verify TLS with; empty without a web config. */
  public readonly clientAuth: PushgatewayClientAuth;
  /** The flavour the Pushgateway is set up for. */
  public readonly flavour: KubePrometheusFlavour;
  /** Labels on every Pushgateway object. */
  public readonly labels: Record<string, string>;
  /** Labels that select the Pushgateway pods. */
  public readonly selectorLabels: Record<string, string>;
  /** The Deployment; undefined with replicas > 1. */
  public readonly deployment?: k8s.KubeDeployment;
  /** The StatefulSet, with replicas > 1. */
  public readonly statefulSet?: k8s.KubeStatefulSet;
  /** The Service. */
  public readonly service: k8s.KubeService;
  /** The headless Service that gives each replica its address, with replicas > 1. */
  public readonly headlessService?: k8s.KubeService;
  /** The PodDisruptionBudget, with replicas > 1. */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** The ServiceMonitor. */
  public readonly serviceMonitor: ServiceMonitor;
  /** Whether each namespace's credentials write only the groups of its own jobs (`writeScope`). */
  public readonly writeScope: boolean;
  private readonly htpasswdSecretPrefix?: string;
  private readonly registries: Array<{ readonly jobs: Array<{ readonly name: string; readonly namespace: string }> }> = [];
  private readonly externalJobs: ProxyJob[] = [];
  private readonly grantedNamespaces = new Set<string>();

  constructor(scope: Construct, id: string, props: PushgatewayProps = {}) {
    super(scope, id);
    refuseDuplicateObjects(this);
    const r = resolvePushgatewayProps(this, props);
    // What clients see of it (IPushgateway), as resolved.
    ({
      name: this.name, namespace: this.namespace, port: this.port, routePrefix: this.routePrefix, scheme: this.scheme, url: this.url,
      replicas: this.replicas, replicaUrls: this.replicaUrls, clientAuth: this.clientAuth, flavour: this.flavour,
      labels: this.labels, selectorLabels: this.selectorLabels,
    } = r);

    this.writeScope = props.writeScope !== undefined;
    this.htpasswdSecretPrefix = props.writeScope ? props.writeScope.htpasswdSecretPrefix ?? `${r.name}-htpasswd-` : undefined;
    // The objects in the order they are written to the manifest.
    const workload = addWorkload(this, r, { jobs: () => this.pushingJobs() });
    this.deployment = workload.deployment;
    this.statefulSet = workload.statefulSet;
    this.service = addService(this, r);
    if (r.ha) {
      this.headlessService = addHeadlessService(this, r);
      this.podDisruptionBudget = addDisruptionBudget(this, r);
    }
    this.serviceMonitor = addServiceMonitor(this, r);
    if (props.ingress) addIngress(this, r, props.ingress);
    if (r.networkPolicy) addNetworkPolicy(this, r, () => this.pushingNamespaces());
    if (r.flavour.needsDiscoveryRbac(r.namespace)) addPrometheusDiscoveryRbac(this, r);
    if ((props.enableAdminApi || props.enableLifecycle) && !props.writeScope) {
      const field = props.enableAdminApi ? 'enableAdminApi' : 'enableLifecycle';
      this.node.addValidation({ validate: () => this.checkAdminReach(field) });
    }
    if (props.writeScope) {
      this.node.addValidation({ validate: () => { checkWriteScopeJobs(this, this.pushingJobs()); return []; } });
    }
  }

  /**
   * Jobs declared in another app (against `Pushgateway.fromPushgatewayAttributes`) that push from
   * `namespace`: the NetworkPolicy admits the namespace's pusher-labelled pods, and with
   * `writeScope` the namespace's credentials may write these jobs' groups.
   */
  public addExternalJobs(namespace: string, jobNames: string[]): void {
    checkDnsLabel(this, 'addExternalJobs() namespace', namespace);
    for (const name of jobNames) {
      if (!name) throw invalidInput(this, 'addExternalJobs() job name', name, 'give the `job` label the job pushes with');
      this.externalJobs.push({ name, namespace });
    }
    this.grantedNamespaces.add(namespace);
  }

  public grantPush(pod: AbstractPod, options: GrantPushOptions = {}): void {
    grantPushTo(this, pod, options, {
      htpasswdSecret: this.htpasswdSecretPrefix !== undefined ? (namespace) => `${this.htpasswdSecretPrefix}${namespace}` : undefined,
      admit: (namespace) => this.grantedNamespaces.add(namespace),
    });
  }

  /** @internal A registry of jobs pushing here: its jobs are read at synth, once all are declared. */
  public _addRegistry(registry: { readonly jobs: Array<{ readonly name: string; readonly namespace: string }> }): void {
    this.registries.push(registry);
  }

  /** Every job that pushes here, as the app knows them: declared to a registry, or named for another app. */
  private pushingJobs(): ProxyJob[] {
    const jobs = new Map<string, ProxyJob>();
    for (const job of [...this.externalJobs, ...this.registries.flatMap((registry) => registry.jobs)]) {
      const other = jobs.get(job.name);
      if (other && other.namespace !== job.namespace) {
        throw invalidInput(this, `namespace of job "${job.name}"`, job.namespace,
          `the job is also declared in namespace ${other.namespace}, and the Pushgateway holds one group per job label: give one of them another name`);
      }
      jobs.set(job.name, { name: job.name, namespace: job.namespace });
    }
    return [...jobs.values()];
  }

  /** The namespaces whose pusher-labelled pods the NetworkPolicy admits by name. */
  private pushingNamespaces(): string[] {
    return [...new Set([this.namespace, ...this.grantedNamespaces, ...this.pushingJobs().map((job) => job.namespace)])].sort();
  }

  private checkAdminReach(field: string): string[] {
    const other = this.pushingNamespaces().find((namespace) => namespace !== this.namespace);
    if (other) {
      throw invalidInput(this, field, true,
        `pods of namespace ${other} push here, and could wipe or stop the Pushgateway: set writeScope (its proxy never serves these APIs; reach them with kubectl port-forward), or drop ${field}`);
    }
    return [];
  }
}

/** A Pushgateway deployed elsewhere, known by its attributes (see `Pushgateway.fromPushgatewayAttributes`). */
class ImportedPushgateway extends Construct implements IPushgateway {
  public readonly name: string;
  public readonly namespace: string;
  public readonly port: number;
  public readonly scheme: string;
  public readonly routePrefix: string;
  public readonly url: string;
  public readonly replicas: number;
  public readonly replicaUrls: string[];
  public readonly clientAuth: PushgatewayClientAuth;
  public readonly flavour: KubePrometheusFlavour;
  public readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, attrs: PushgatewayAttributes) {
    super(scope, id);
    checkRequired(this, 'PushgatewayAttributes', attrs, { name: REQUIRED_STRING, namespace: REQUIRED_STRING });
    checkDnsLabel(this, 'name', attrs.name, 53);
    checkDnsLabel(this, 'namespace', attrs.namespace);
    this.name = attrs.name;
    this.namespace = attrs.namespace;
    this.port = attrs.port ?? 9091;
    checkPort(this, 'port', this.port);
    this.scheme = attrs.scheme ?? 'http';
    if (!['http', 'https'].includes(this.scheme)) throw invalidInput(this, 'scheme', this.scheme, 'use "http" or "https"');
    this.routePrefix = routePrefixOf(this, attrs.routePrefix);
    this.url = pushgatewayUrl(this.scheme, `${this.name}.${this.namespace}.svc`, this.port, this.routePrefix);
    this.replicas = attrs.replicas ?? 1;
    if (!Number.isInteger(this.replicas) || this.replicas < 1) throw invalidInput(this, 'replicas', this.replicas, 'use a whole number of at least 1');
    this.replicaUrls = attrs.replicaUrls ? [...attrs.replicaUrls] : [this.url];
    if (this.replicaUrls.length !== this.replicas) {
      throw invalidInput(this, 'replicaUrls', this.replicaUrls, `give one URL per replica (${this.replicas})`);
    }
    this.clientAuth = attrs.clientAuth ?? {};
    this.flavour = attrs.flavour ?? KubePrometheusFlavour.kubePrometheus();
    const partOf = attrs.partOf ?? DEFAULT_PART_OF;
    checkLabelValue(this, 'partOf', partOf);
    this.labels = objectLabels({ name: this.name, component: 'exporter', partOf });
  }

  public grantPush(pod: AbstractPod, options: GrantPushOptions = {}): void {
    grantPushTo(this, pod, options, {});
  }
}
