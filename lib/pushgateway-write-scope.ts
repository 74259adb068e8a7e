import { ContainerResources } from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import { PushgatewayCaCertificate } from './pushgateway-web-config';
import { checkDnsLabel, invalidInput } from './validation';
import { PROXY_JOB_NAME, ProxyJob } from './write-scope-proxy-config';

/**
 * Write scope per namespace: an authorizing nginx proxy in the Pushgateway pod, configured from
 * the jobs declared against the Pushgateway, gives each namespace its own basic-auth credentials,
 * which write only the groups of the jobs declared in that namespace. The Pushgateway listens on
 * 127.0.0.1 behind it. No password is ever in the manifests: you create the Secrets.
 */
export interface PushgatewayWriteScope {
  /**
   * Secret every pushing namespace holds, with keys `username` and `password`: a namespace's user
   * is named after it (`etl`, or `etl.<anything>` for a second user while a password rotates).
   * The one in the Pushgateway's namespace is the maintainer's, which reads everything and deletes
   * any group: the ServiceMonitor and the cleanup use it.
   * @default 'pushgateway-client'
   */
  readonly clientSecretName?: string;
  /**
   * Prefix of the Secrets, in the Pushgateway's namespace, that hold each namespace's htpasswd
   * file (key `htpasswd`, bcrypt lines as `htpasswd -nbB` prints them): `<prefix><namespace>`.
   * A namespace whose Secret is missing gets 403 on every push.
   * @default '<name>-htpasswd-'
   */
  readonly htpasswdSecretPrefix?: string;
  /**
   * A `kubernetes.io/tls` Secret: the proxy serves HTTPS with its `tls.crt` and `tls.key`, and reads
   * them at each handshake, so a renewed certificate needs no restart.
   * @default - plain HTTP
   */
  readonly tlsSecretName?: string;
  /**
   * Where clients find the CA that signed the certificate, in their own namespace.
   * @default - the `ca.crt` key of `tlsSecretName`
   */
  readonly caCertificate?: PushgatewayCaCertificate;
  /**
   * The nginx image of the proxy, pinned by tag or digest.
   * @default 'nginx:1.28.0-alpine'
   */
  readonly proxyImage?: string;
  /**
   * CPU and memory of the proxy container.
   * @default - requests 10m / 16Mi, limits 200m / 64Mi
   */
  readonly proxyResources?: ContainerResources;
}

export const DEFAULT_PROXY_IMAGE = 'nginx:1.28.0-alpine';
const PROXY_DIR = '/etc/pushgateway-proxy';
export const WRITE_SCOPE_VOLUMES: Record<string, string> = {
  'proxy-config': `${PROXY_DIR}/config`,
  'proxy-htpasswd': `${PROXY_DIR}/htpasswd`,
  'proxy-tls': `${PROXY_DIR}/tls`,
  'proxy-tmp': '/tmp',
};

/** The port the Pushgateway listens on behind the proxy, on 127.0.0.1 only. */
export function upstreamPort(port: number): number {
  return port === 9092 ? 9093 : 9092;
}

export function checkWriteScope(scope: IConstruct, writeScope: PushgatewayWriteScope): void {
  for (const [field, value] of Object.entries({ clientSecretName: writeScope.clientSecretName, tlsSecretName: writeScope.tlsSecretName })) {
    if (value !== undefined) checkDnsLabel(scope, `writeScope.${field}`, value, 253);
  }
  if (writeScope.htpasswdSecretPrefix !== undefined && !/^[a-z0-9]([-a-z0-9.]*)$/.test(writeScope.htpasswdSecretPrefix)) {
    throw invalidInput(scope, 'writeScope.htpasswdSecretPrefix', writeScope.htpasswdSecretPrefix,
      'use lower-case letters, digits, "-" and ".", starting with a letter or digit (e.g. "pushgateway-htpasswd-"): the namespace is appended');
  }
  if (writeScope.caCertificate && !writeScope.tlsSecretName) {
    throw invalidInput(scope, 'writeScope.caCertificate', writeScope.caCertificate.name, 'a CA is only used with TLS: set writeScope.tlsSecretName too, or drop caCertificate');
  }
  const image = writeScope.proxyImage;
  if (image !== undefined && (!image.trim() || /\s/.test(image))) {
    throw invalidInput(scope, 'writeScope.proxyImage', image, `use an image reference such as "${DEFAULT_PROXY_IMAGE}"`);
  }
}

/** Job names the proxy cannot tell apart from other paths are refused once every job is declared. */
export function checkWriteScopeJobs(scope: IConstruct, jobs: ProxyJob[]): void {
  const bad = jobs.find((job) => !PROXY_JOB_NAME.test(job.name) || job.name === '.' || job.name === '..');
  if (bad) {
    throw invalidInput(scope, `name of job declared in namespace ${bad.namespace}`, bad.name,
      'under writeScope a job name is sent unescaped: use letters, digits, "-", "_", "." and "~", starting with a letter, digit, "-" or "_"');
  }
}
