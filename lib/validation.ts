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
 * field, the bad value and how to fix it, so the message alone is enough to act on. A value that is
 * not there at all (plain JavaScript and tsx, without a type check, let a required prop be left out)
 * reads `<where>: missing <field>: <fix>`. The message ends with the Python names of the props and
 * methods it names, where they differ (`pythonNames`).
 */
export function invalidInput(scope: InputScope, field: string, value: unknown, fix: string): Error {
  const where = typeof scope === 'string' ? scope : scope.node.path;
  const what = value === undefined ? `missing ${field}` : `invalid ${field} ${JSON.stringify(value)}`;
  return new Error(`${where}: ${what}: ${fix}${pythonNames(`${field} ${fix}`)}`);
}

// A prop or method named as TypeScript writes it (lowerCamelCase, optionally called), outside quotes.
const CAMEL_CASE = /\b([a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+)\b(\()?/g;

/**
 * jsii gives Python the same API in snake_case, and errors reach Python as the very message thrown
 * here: ` (Python: `job_name` for `jobName`, `add_job()` for `addJob()`)` for the camelCase names in
 * `text`, or '' when there are none. Quoted values ("dailyBackup") are the user's, never renamed.
 */
export function pythonNames(text: string): string {
  const names = new Map<string, string>();
  for (const [, name, call] of text.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(CAMEL_CASE)) {
    const suffix = call ? '()' : '';
    names.set(`${name}${suffix}`, `${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()}${suffix}`);
  }
  if (names.size === 0) return '';
  return ` (Python: ${[...names].map(([ts, py]) => `\`${py}\` for \`${ts}\``).join(', ')})`;
}

/**
 * What a required value must be, for callers without a type check: a missing or mistyped one
 * would otherwise fail deep inside as "Cannot read properties of undefined".
 */
export interface Requirement {
  /** Whether the value is of the required kind. */
  readonly accepts: (value: unknown) => boolean;
  /** What to give, e.g. 'a Duration, e.g. Duration.hours(24)'. */
  readonly give: string;
  /** Whether the value may be left out. */
  readonly optional?: boolean;
}

export const REQUIRED_STRING: Requirement = { accepts: (v) => typeof v === 'string', give: 'a string' };
export const REQUIRED_DURATION: Requirement = {
  accepts: (v) => typeof (v as { toMilliseconds?: unknown } | undefined)?.toMilliseconds === 'function',
  give: 'a Duration, e.g. Duration.hours(24)',
};
export const REQUIRED_CRON: Requirement = {
  accepts: (v) => typeof (v as { expressionString?: unknown } | undefined)?.expressionString === 'string',
  give: 'a Cron, e.g. Cron.daily()',
};
export const REQUIRED_PUSHGATEWAY: Requirement = {
  accepts: (v) => typeof (v as { url?: unknown } | undefined)?.url === 'string',
  give: 'a Pushgateway, or one deployed elsewhere: Pushgateway.fromPushgatewayAttributes(scope, id, { name, namespace })',
};
/** `requirement`, or nothing at all: an optional prop that, when given, must be of that kind. */
export function optional(requirement: Requirement): Requirement {
  return { accepts: (v) => v === undefined || requirement.accepts(v), give: requirement.give, optional: true };
}

export const REQUIRED_OBJECT: Requirement = { accepts: (v) => typeof v === 'object' && v !== null, give: 'an object' };

/**
 * Checks the required members of `props` (the struct named `struct`, e.g. 'MonitoredCronJobProps'),
 * and `props` itself, before anything reads them.
 */
export function checkRequired(scope: InputScope, struct: string, props: unknown, required: Record<string, Requirement>): void {
  const names = Object.entries(required).filter(([, r]) => !r.optional).map(([n]) => `\`${n}\``).join(', ');
  if (typeof props !== 'object' || props === null) {
    throw invalidInput(scope, struct, props, `give ${struct} with at least ${names}`);
  }
  for (const [name, requirement] of Object.entries(required)) {
    const value = (props as Record<string, unknown>)[name];
    if (!requirement.accepts(value)) {
      throw invalidInput(scope, `\`${name}\` of ${struct}`, value === undefined ? undefined : describe(value), `give ${requirement.give}`);
    }
  }
}

/** A wrong value as the message shows it: JSON when it has a JSON form, else its type. */
function describe(value: unknown): unknown {
  if (typeof value === 'function') return `a function ${value.name}`;
  if (typeof value === 'object' && value !== null && value.constructor && value.constructor !== Object && !Array.isArray(value)) {
    return `a ${value.constructor.name}`;
  }
  return value;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Whether `value` is an RFC 1123 DNS label of at most `maxLength` characters. */
export function isDnsLabel(value: string, maxLength = 63): boolean {
  return typeof value === 'string' && value.length <= maxLength && DNS_LABEL.test(value);
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
  if (!REQUIRED_OBJECT.accepts(labels)) throw invalidInput(scope, field, labels, 'give the labels as an object, e.g. { app: "backup" }');
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
  if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
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
  if (!REQUIRED_DURATION.accepts(value)) throw invalidInput(scope, field, value, `give ${REQUIRED_DURATION.give}`);
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
