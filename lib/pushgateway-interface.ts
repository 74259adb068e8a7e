import { AbstractPod } from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { PushgatewayBasicAuth, PushgatewayCaCertificate, PushgatewayClientAuth } from './pushgateway-web-config';

// The Pushgateway as its clients see it, apart from the construct that deploys one, so that the
// pods that push (pusher-pod.ts, cron-job-pod.ts) and the construct both stand on it.

/**
 * A Pushgateway as pushers, rules and dashboards see it: where it is and how to reach it. A
 * `Pushgateway` deployed by this app is one; `Pushgateway.fromPushgatewayAttributes` makes one for
 * a Pushgateway deployed elsewhere (another app, a Helm release).
 */
export interface IPushgateway extends IConstruct {
  /** The Service name, and the scrape `job` label of the Pushgateway's own metrics. */
  readonly name: string;
  /** Namespace of the Pushgateway's Service. */
  readonly namespace: string;
  /** The Service port. */
  readonly port: number;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The route prefix, `''` when none. */
  readonly routePrefix: string;
  /** The in-cluster base URL clients push to (the Service). */
  readonly url: string;
  /** Number of replicas; every pusher pushes to each, Prometheus scrapes each. */
  readonly replicas: number;
  /** One base URL per replica (with 1 replica: `[url]`). */
  readonly replicaUrls: string[];
  /** The Secrets clients authenticate and verify TLS with; empty without a web config. */
  readonly clientAuth: PushgatewayClientAuth;
  /** The flavour of the kube-prometheus that scrapes the Pushgateway and loads rules about it. */
  readonly flavour: KubePrometheusFlavour;
  /** Labels on the Pushgateway's objects (`app.kubernetes.io/part-of` names the product). */
  readonly labels: Record<string, string>;
  /**
   * Gives a workload's (or pod's) pods what they need to push: the pusher label, `PUSHGATEWAY_URL`
   * (and `PUSHGATEWAY_URLS` with replicas) in each container so far, the credentials and the CA
   * certificate; notes on it (annotation `batch-monitoring.io/pushgateway-prerequisites`) what its
   * namespace must hold when that is not the Pushgateway's.
   */
  grantPush(pod: AbstractPod, options?: GrantPushOptions): void;
}

/** Options of `IPushgateway.grantPush`. */
export interface GrantPushOptions {
  /**
   * The `job` label the pods push with, set as `BATCH_JOB_NAME` (what the push wrapper reads).
   * @default - not set
   */
  readonly jobName?: string;
  /**
   * Basic-auth credentials, from a Secret in the pods' namespace.
   * @default - the Pushgateway's (`clientAuth.basicAuth`), if any
   */
  readonly basicAuth?: PushgatewayBasicAuth;
  /**
   * The CA certificate that verifies the Pushgateway, from a Secret key or ConfigMap in the pods'
   * namespace; only that key is mounted.
   * @default - the Pushgateway's (`clientAuth.ca`), if any
   */
  readonly caCertificate?: PushgatewayCaCertificate;
}
