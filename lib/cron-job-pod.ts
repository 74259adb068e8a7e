import { ApiObject, JsonPatch } from 'cdk8s';
import { Capability, CronJob, EnvValue, ISecret, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PUSHER_ENV } from './names';
import { IPushgateway } from './pushgateway';
import { SecretKeyReference } from './pushgateway-web-config';

/**
 * What the pods of the library's CronJobs (MonitoredCronJob, CleanupCronJob) share: the parts of
 * Pod Security "restricted" cdk8s-plus-27 cannot express, and the Pushgateway credentials.
 */

/** cdk8s-plus-27's Capability enum has no ALL, which Pod Security "restricted" requires dropping. */
export const DROP_ALL = 'ALL' as Capability;

/** Sets the RuntimeDefault seccomp profile on the pod, which cdk8s-plus-27 has no prop for. */
export function useRuntimeDefaultSeccomp(cronJob: CronJob): void {
  ApiObject.of(cronJob).addJsonPatch(
    JsonPatch.add('/spec/jobTemplate/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
  );
}

/**
 * `PUSHGATEWAY_URL` (the Service) and, with replicas, `PUSHGATEWAY_URLS` (one URL per replica):
 * replicas do not replicate, so every pusher writes to each.
 */
export function pushgatewayUrlEnv(pushgateway: IPushgateway): Record<string, EnvValue> {
  return {
    [PUSHER_ENV.url]: EnvValue.fromValue(pushgateway.url),
    ...(pushgateway.replicas > 1 ? { [PUSHER_ENV.urls]: EnvValue.fromValue(pushgateway.replicaUrls.join(',')) } : {}),
  };
}

/** `PUSHGATEWAY_USERNAME` and `PUSHGATEWAY_PASSWORD` from Secret keys, never as values. */
export function basicAuthEnv(scope: Construct, username: SecretKeyReference, password: SecretKeyReference): Record<string, EnvValue> {
  return {
    [PUSHER_ENV.username]: EnvValue.fromSecretValue({ secret: secretNamed(scope, username.secretName), key: username.key }),
    [PUSHER_ENV.password]: EnvValue.fromSecretValue({ secret: secretNamed(scope, password.secretName), key: password.key }),
  };
}

/** The Secret `name` as seen from `scope`, imported once however often it is referenced. */
function secretNamed(scope: Construct, name: string): ISecret {
  const id = `Secret-${name}`;
  return (scope.node.tryFindChild(id) as ISecret | undefined) ?? Secret.fromSecretName(scope, id, name);
}
