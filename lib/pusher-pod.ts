import { Chart } from 'cdk8s';
import { AbstractPod, Container, EnvValue } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { basicAuthEnv, caMount, pushgatewayUrlEnv } from './cron-job-pod';
import { PUSHER_ENV, PUSHER_LABEL, PUSHERS_NAMESPACE_LABEL } from './names';
import { GrantPushOptions, IPushgateway } from './pushgateway-interface';
import { PushgatewayClientAuth } from './pushgateway-web-config';
import { invalidInput } from './validation';

// The one home of what a pod that pushes needs: the pusher label, the Pushgateway URLs, the
// credentials and the CA certificate (never the Pushgateway's key), and a note of what must exist
// in the pod's namespace. `grantPush` of Pushgateway and of an imported Pushgateway, and through
// them MonitoredCronJob and CleanupCronJob, all come here.

/** What the granting Pushgateway knows about itself that an imported one cannot. */
export interface GrantContext {
  /** Under write scope: the htpasswd Secret, in the Pushgateway's namespace, of `namespace`'s users. */
  readonly htpasswdSecret?: (namespace: string) => string;
  /** Whether the Pushgateway's NetworkPolicy admits `namespace` by itself (a Pushgateway of this app); it then does. */
  readonly admit?: (namespace: string) => void;
}

/** The annotation that says what a pushing workload's namespace must hold. */
export const PREREQUISITES_ANNOTATION = 'batch-monitoring.io/pushgateway-prerequisites';
const CA_VOLUME = 'pushgateway-ca';

/**
 * Gives `pod` what it needs to push to `pushgateway`: the pusher label on its pods, and in each of
 * its containers so far the URLs, the credentials and the CA.
 */
export function grantPushTo(pushgateway: IPushgateway, pod: AbstractPod, options: GrantPushOptions, context: GrantContext): void {
  const namespace = pod.metadata.namespace ?? Chart.of(pod).namespace;
  if (!namespace) {
    throw invalidInput(pod, 'namespace', null, 'set a namespace on the chart or in metadata.namespace: the Pushgateway must know where its pushers run');
  }
  const auth = authOf(pushgateway, options);
  pod.podMetadata.addLabel(PUSHER_LABEL, 'true');
  for (const container of pod.containers) addPusherEnvironment(pod, container, pushgateway, auth, options.jobName);
  context.admit?.(namespace);
  const needs = prerequisites(pushgateway, namespace, auth, context);
  if (needs) pod.metadata.addAnnotation(PREREQUISITES_ANNOTATION, needs);
}

/** The URLs, credentials and CA in one container of a pod granted push (also for containers added later). */
export function addPusherEnvironment(scope: Construct, container: Container, pushgateway: IPushgateway, auth: PushgatewayClientAuth, jobName?: string): void {
  const ca = auth.ca && caMount(scope, auth.ca, CA_VOLUME);
  const env: Record<string, EnvValue> = {
    ...pushgatewayUrlEnv(pushgateway),
    ...(jobName !== undefined ? { [PUSHER_ENV.jobName]: EnvValue.fromValue(jobName) } : {}),
    ...(auth.basicAuth ? basicAuthEnv(scope, auth.basicAuth) : {}),
    ...(ca ? { [PUSHER_ENV.caFile]: EnvValue.fromValue(ca.file) } : {}),
  };
  for (const [name, value] of Object.entries(env)) container.env.addVariable(name, value);
  if (ca) container.mount(ca.mount.path, ca.mount.volume, { readOnly: true });
}

/** The credentials and CA a grant uses: the options', else the Pushgateway's. */
export function authOf(pushgateway: IPushgateway, options: GrantPushOptions): PushgatewayClientAuth {
  return { basicAuth: options.basicAuth ?? pushgateway.clientAuth.basicAuth, ca: options.caCertificate ?? pushgateway.clientAuth.ca };
}

/**
 * What must exist in `namespace` for its pods to push, in a sentence for the manifests' readers;
 * nothing in the Pushgateway's own namespace of this app.
 */
function prerequisites(pushgateway: IPushgateway, namespace: string, auth: PushgatewayClientAuth, context: GrantContext): string | undefined {
  const needs: string[] = [];
  if (namespace !== pushgateway.namespace) {
    if (auth.basicAuth) {
      const { secretName, usernameKey = 'username', passwordKey = 'password' } = auth.basicAuth;
      const htpasswd = context.htpasswdSecret?.(namespace);
      needs.push(`Secret ${secretName} (keys ${usernameKey}, ${passwordKey})${htpasswd
        ? `, its user named ${namespace} or ${namespace}.<suffix>, with the bcrypt hash of its password in Secret ${htpasswd} (key htpasswd) of namespace ${pushgateway.namespace}` : ''}`);
    }
    if (auth.ca) needs.push(`${auth.ca.kind} ${auth.ca.name} (key ${auth.ca.key}) with the Pushgateway's CA certificate`);
  }
  if (!context.admit && namespace !== pushgateway.namespace) {
    needs.push(`the label ${PUSHERS_NAMESPACE_LABEL}=true on namespace ${namespace} (an admin sets it), unless the Pushgateway's app admits the namespace`);
  }
  return needs.length ? `namespace ${namespace} needs: ${needs.join('; ')}` : undefined;
}
