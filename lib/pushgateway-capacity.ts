import { matcher, selector } from './promql';

/**
 * Groups one Pushgateway holds before it gets into trouble with the library's default resources
 * (docs/benchmarks.md, "Pushgateway capacity"): each push and each scrape costs it CPU in
 * proportion to the groups it holds, and memory grows with them.
 */
export const PUSHGATEWAY_GROUP_CAPACITY = 10_000;

/** The share of its capacity (groups, or memory against its container's limit) at which a Pushgateway is near it. */
const NEAR = 0.8;

/** What `PushgatewayNearCapacity` needs to know of its rule file. */
export interface CapacityAlertContext {
  /** Name of the Pushgateway (its Service, its scrape `job`) and its namespace. */
  readonly name: string;
  readonly namespace: string;
  /** The scrape `job` of kube-state-metrics. */
  readonly kubeStateMetricsJob: string;
}

/**
 * `PushgatewayNearCapacity`: a replica holds more than 80 % of `PUSHGATEWAY_GROUP_CAPACITY`
 * groups, or its resident memory is above 80 % of its container's memory limit (from
 * kube-state-metrics). The value is the larger share, so one description fits both.
 */
export function pushgatewayNearCapacity(context: CapacityAlertContext): { expr: string[]; summary: string; description: string } {
  const gateway = `${context.namespace}/${context.name}`;
  const groups = selector('push_time_seconds', [matcher('namespace', context.namespace), matcher('service', context.name)]);
  const rss = selector('process_resident_memory_bytes', [matcher('job', context.name), matcher('namespace', context.namespace)]);
  const limit = selector('kube_pod_container_resource_limits', [
    matcher('job', context.kubeStateMetricsJob), matcher('namespace', context.namespace),
    matcher('resource', 'memory'), matcher('container', 'pushgateway'),
  ]);
  return {
    // Each share gets a label of its own, so that `or` keeps both before the max.
    expr: [
      'max by (namespace, pod) (',
      '  label_replace(',
      `    count by (namespace, pod) (${groups}) / ${PUSHGATEWAY_GROUP_CAPACITY},`,
      '    "share", "groups", "", ""',
      '  )',
      '  or',
      '  label_replace(',
      `    max by (namespace, pod) (${rss})`,
      `      / on (namespace, pod) max by (namespace, pod) (${limit}),`,
      '    "share", "memory", "", ""',
      '  )',
      `) > ${NEAR}`,
    ],
    summary: `Pushgateway ${gateway} is near its capacity`,
    description: `Pushgateway pod {{ $labels.pod }} of ${gateway} is at {{ $value | humanizePercentage }} of its capacity `
      + `(the larger of: groups held against ${PUSHGATEWAY_GROUP_CAPACITY.toLocaleString('en')}, resident memory against its `
      + 'container\'s memory limit). Pushes and scrapes slow down as groups pile up, and past the memory limit it is killed: '
      + 'let the cleanup reclaim groups, or give it more memory and CPU.',
  };
}
