import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import type { BatchJob } from './batch-job';

/**
 * Where bad input was given: a construct (its path is named), or, for values built outside any
 * construct such as `KubePrometheusFlavour.kubePrometheusStack()`, the factory's name.
 */
export type InputScope = IConstruct | string;

/**
 * Builds the error every construct throws for bad input: where it happened (construct path), which
 * field, the bad value and how to fix it, so the message alone is enough to act on.
 */
export function invalidInput(scope: InputScope, field: string, value: unknown, fix: string): Error {
  const where = typeof scope === 'string' ? scope : scope.node.path;
  return new Error(`${where}: invalid ${field} ${JSON.stringify(value)}: ${fix}`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Whether `value` is an RFC 1123 DNS label of at most `maxLength` characters. */
export function isDnsLabel(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS_LABEL.test(value);
}

/** An RFC 1123 DNS label (object names of Services, namespaces, most objects), at most `maxLength` characters. */
export function checkDnsLabel(scope: InputScope, field: string, value: string, maxLength = 63): void {
  if (!isDnsLabel(value, maxLength)) {
    throw invalidInput(scope, field, value,
      `use at most ${maxLength} lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "pushgateway")`);
  }
}

/** Kubernetes label keys and values, as the API server checks them. */
export function checkKubernetesLabels(scope: InputScope, field: string, labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    const name = key.includes('/') ? key.split('/')[1] : key;
    if (!LABEL_NAME.test(key) || name.length > 63 || key.length > 253 + 64) {
      throw invalidInput(scope, `${field} key`, key, 'use an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" or "."');
    }
    checkLabelValue(scope, `${field}["${key}"]`, value);
  }
}

/** A Kubernetes label value, e.g. a prop that ends up as `app.kubernetes.io/part-of`. */
export function checkLabelValue(scope: InputScope, field: string, value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw invalidInput(scope, field, value,
      'use at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, or ""');
  }
}

export function checkPort(scope: IConstruct, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidInput(scope, field, value, 'use a whole number from 1 to 65535 (the Pushgateway default is 9091)');
  }
}

export function checkPositive(scope: IConstruct, field: string, value: Duration): void {
  if (value.toMilliseconds() <= 0) {
    throw invalidInput(scope, field, value.toHumanString(), 'use a duration greater than zero, e.g. Duration.minutes(5)');
  }
}

/**
 * A CronJob's `startingDeadlineSeconds`: the controller checks every 10 seconds, and below that
 * "the CronJob may not be scheduled" (Kubernetes CronJob documentation); 10 itself is allowed.
 */
export function checkStartingDeadline(scope: InputScope, value: Duration): void {
  if (value.toSeconds({ integral: false }) < 10) {
    throw invalidInput(scope, 'startingDeadline', value.toHumanString(),
      'use at least 10 seconds, the CronJob controller\'s check period, e.g. Duration.minutes(30): with less, the controller can skip runs');
  }
}

/** A URL path as the Pushgateway flags take it: starts with '/', no trailing '/', no spaces or query. */
export function checkUrlPath(scope: IConstruct, field: string, value: string): void {
  if (!value.startsWith('/')) {
    throw invalidInput(scope, field, value, `start the path with "/", e.g. "/${value.replace(/^\/*/, '')}"`);
  }
  if (value.length > 1 && value.endsWith('/')) {
    throw invalidInput(scope, field, value, `remove the trailing "/", e.g. "${value.replace(/\/+$/, '')}"`);
  }
  if (!/^[A-Za-z0-9\-._~/]+$/.test(value)) {
    throw invalidInput(scope, field, value, 'use only letters, digits and "-", ".", "_", "~", "/"');
  }
}

/** A job's thresholds, checked where every job is declared, whoever declares it: `JobRegistry.addJob`. */
export function checkJobThresholds(scope: IConstruct, job: BatchJob): void {
  checkPositive(scope, `interval of job "${job.name}"`, job.interval);
  checkPositive(scope, `maxDuration of job "${job.name}"`, job.maxDuration);
  // Without grace, every run that starts a little late or takes its time would count as missing.
  if (job.grace) checkPositive(scope, `grace of job "${job.name}"`, job.grace);
  if (job.maxDuration.toMilliseconds() > job.interval.toMilliseconds()) {
    throw invalidInput(scope, `maxDuration of job "${job.name}"`, job.maxDuration.toHumanString(),
      `a run may not take longer than the interval between runs (${job.interval.toHumanString()}): lower maxDuration or raise interval`);
  }
}
