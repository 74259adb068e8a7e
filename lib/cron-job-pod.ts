import { ApiObject, JsonPatch } from 'cdk8s';
import { Capability, ConfigMap, CronJob, EnvValue, ISecret, Secret, Volume, VolumeMount } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PUSHER_ENV } from './names';
import { IPushgateway } from './pushgateway-interface';
import { PushgatewayBasicAuth, PushgatewayCaCertificate } from './pushgateway-web-config';

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

/** `PUSHGATEWAY_USERNAME` and `PUSHGATEWAY_PASSWORD` from the Secret's keys, never as values. */
export function basicAuthEnv(scope: Construct, auth: PushgatewayBasicAuth): Record<string, EnvValue> {
  const secret = secretNamed(scope, auth.secretName);
  return {
    [PUSHER_ENV.username]: EnvValue.fromSecretValue({ secret, key: auth.usernameKey ?? 'username' }),
    [PUSHER_ENV.password]: EnvValue.fromSecretValue({ secret, key: auth.passwordKey ?? 'password' }),
  };
}

/** The Secret `name` as seen from `scope`, imported once however often it is referenced. */
function secretNamed(scope: Construct, name: string): ISecret {
  const id = `Secret-${name}`;
  return (scope.node.tryFindChild(id) as ISecret | undefined) ?? Secret.fromSecretName(scope, id, name);
}

/** Where the pod finds the CA certificate(s) of an https Pushgateway. */
const CA_DIR = '/etc/pushgateway-ca';

/** The CA certificate in the pod: the mount, and the certificate file the client reads. */
export interface CaMount {
  readonly mount: VolumeMount;
  readonly file: string;
}

/**
 * Mounts the key of `ca` alone, read-only, as `ca.crt`: never the rest of the Secret (a TLS
 * Secret's `tls.key` would let whoever reads the pod's files impersonate the Pushgateway).
 * `volumeName` names the pod volume; the volume is defined once however often it is mounted.
 */
export function caMount(scope: Construct, ca: PushgatewayCaCertificate, volumeName: string): CaMount {
  const volume = (scope.node.tryFindChild('CaVolume') as Volume | undefined) ?? caVolume(scope, ca, volumeName);
  return { mount: { volume, path: CA_DIR, readOnly: true }, file: `${CA_DIR}/ca.crt` };
}

function caVolume(scope: Construct, ca: PushgatewayCaCertificate, name: string): Volume {
  const options = { name, items: { [ca.key]: { path: 'ca.crt' } }, defaultMode: 0o444 };
  if (ca.kind === 'Secret') {
    return Volume.fromSecret(scope, 'CaVolume', Secret.fromSecretName(scope, 'CaSecret', ca.name), options);
  }
  return Volume.fromConfigMap(scope, 'CaVolume', ConfigMap.fromConfigMapName(scope, 'CaConfigMap', ca.name), options);
}
