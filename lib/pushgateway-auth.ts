import { k8s } from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { ServiceMonitorSpecEndpointsBasicAuth, ServiceMonitorSpecEndpointsTlsConfig } from '../imports/monitoring.coreos.com';
import { PushgatewayBasicAuth, PushgatewayCaCertificate, PushgatewayClientAuth, PushgatewayWebConfig } from './pushgateway-web-config';
import type { PushgatewayWriteScope } from './pushgateway-write-scope';
import { checkDnsLabel, invalidInput } from './validation';

// Auth and TLS of the Pushgateway: its web config file and TLS certificate in the pod, and what
// its clients (Prometheus first) authenticate and verify TLS with.

export const WEB_CONFIG_DIR = '/etc/pushgateway/web';
export const TLS_DIR = '/etc/pushgateway/tls';

export function checkWebConfig(scope: IConstruct, web: PushgatewayWebConfig): void {
  const names = {
    'webConfig.secretName': web.secretName,
    'webConfig.tlsSecretName': web.tlsSecretName,
    'webConfig.caSecretName': web.caSecretName,
    'webConfig.clientSecretName': web.clientSecretName,
  };
  for (const [field, value] of Object.entries(names)) {
    // secretName is required; the others are optional.
    if (value !== undefined || field === 'webConfig.secretName') checkDnsLabel(scope, field, value!, 253);
  }
  if (web.caSecretName && !web.tlsSecretName) {
    throw invalidInput(scope, 'webConfig.caSecretName', web.caSecretName, 'a CA is only used with TLS: set webConfig.tlsSecretName too, or drop caSecretName');
  }
}

/** The Secret keys clients of a Pushgateway with this web config authenticate and verify TLS with. */
export function clientAuthOf(web: PushgatewayWebConfig | undefined): PushgatewayClientAuth {
  const tls = web?.tlsSecretName !== undefined;
  const caSecretName = web?.caSecretName ?? web?.tlsSecretName;
  return {
    basicAuth: web?.clientSecretName
      ? { secretName: web.clientSecretName, usernameKey: web.clientUsernameKey ?? 'username', passwordKey: web.clientPasswordKey ?? 'password' }
      : undefined,
    ca: tls && caSecretName ? PushgatewayCaCertificate.fromSecret(caSecretName, web?.caSecretKey) : undefined,
  };
}

/** Under write scope every client holds the Secret of that name in its own namespace, with its namespace's user. */
export function writeScopeClientAuth(writeScope: PushgatewayWriteScope): PushgatewayClientAuth {
  const tlsSecretName = writeScope.tlsSecretName;
  return {
    basicAuth: { secretName: writeScope.clientSecretName ?? 'pushgateway-client' },
    ca: writeScope.caCertificate ?? (tlsSecretName ? PushgatewayCaCertificate.fromSecret(tlsSecretName) : undefined),
  };
}

/** The Pushgateway's flag that reads the web config. */
export function webConfigArgs(web: PushgatewayWebConfig | undefined): string[] {
  return web ? [`--web.config.file=${WEB_CONFIG_DIR}/web-config.yml`] : [];
}

export function webConfigVolumes(web: PushgatewayWebConfig | undefined): k8s.Volume[] {
  return [
    ...(web ? [{ name: 'web-config', secret: { secretName: web.secretName, items: [{ key: web.secretKey ?? 'web-config.yml', path: 'web-config.yml' }] } }] : []),
    ...(web?.tlsSecretName ? [{ name: 'tls', secret: { secretName: web.tlsSecretName } }] : []),
  ];
}

export function webConfigMounts(web: PushgatewayWebConfig | undefined): k8s.VolumeMount[] {
  return [
    ...(web ? [{ name: 'web-config', mountPath: WEB_CONFIG_DIR, readOnly: true }] : []),
    ...(web?.tlsSecretName ? [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] : []),
  ];
}

/** How Prometheus verifies the Pushgateway's certificate, issued for `serverName`. */
export function scrapeTlsConfig(ca: PushgatewayCaCertificate | undefined, serverName: string): ServiceMonitorSpecEndpointsTlsConfig | undefined {
  if (!ca) return undefined;
  const ref = { name: ca.name, key: ca.key };
  return { ca: ca.kind === 'Secret' ? { secret: ref } : { configMap: ref }, serverName };
}

export function scrapeBasicAuth(auth: PushgatewayBasicAuth | undefined): ServiceMonitorSpecEndpointsBasicAuth | undefined {
  return auth ? {
    username: { name: auth.secretName, key: auth.usernameKey ?? 'username' },
    password: { name: auth.secretName, key: auth.passwordKey ?? 'password' },
  } : undefined;
}
