import { PushgatewayPeer } from './pushgateway-peer';

/**
 * Basic auth and TLS for the Pushgateway (its `--web.config.file`), from Secrets you manage, so
 * that no password ever appears in the synthesized manifests.
 */
export interface PushgatewayWebConfig {
  /**
   * Secret, in the Pushgateway's namespace, holding the web config file in the exporter-toolkit
   * format: `basic_auth_users` with bcrypt hashes (`htpasswd -nBC 10 "" | tr -d ':\n'`) and, with
   * TLS, `tls_server_config` with `cert_file: /etc/pushgateway/tls/tls.crt` and
   * `key_file: /etc/pushgateway/tls/tls.key`. The Pushgateway re-reads it on every request, so
   * rotating a password or certificate needs no restart.
   */
  readonly secretName: string;
  /**
   * Key of the web config file in `secretName`.
   * @default 'web-config.yml'
   */
  readonly secretKey?: string;
  /**
   * A `kubernetes.io/tls` Secret mounted at /etc/pushgateway/tls; the Pushgateway then serves
   * HTTPS, and its URL, probes and ServiceMonitor follow. The certificate must name
   * `<name>.<namespace>.svc` and, with replicas, the replica addresses too
   * (`*.<name>-headless.<namespace>.svc`), which pushers verify.
   * @default - plain HTTP
   */
  readonly tlsSecretName?: string;
  /**
   * Secret holding the CA certificate clients verify the Pushgateway's certificate with.
   * @default - `tlsSecretName` (its `ca.crt` key, as cert-manager writes it)
   */
  readonly caSecretName?: string;
  /**
   * Key of the CA certificate in `caSecretName`.
   * @default 'ca.crt'
   */
  readonly caSecretKey?: string;
  /**
   * Secret with the user name and password every client uses (Prometheus, the cleanup CronJob,
   * the push wrapper); its user's bcrypt hash must be in the web config. The Secret must exist in
   * each client's namespace.
   * @default - no basic auth
   */
  readonly clientSecretName?: string;
  /**
   * Key of the user name in `clientSecretName`.
   * @default 'username'
   */
  readonly clientUsernameKey?: string;
  /**
   * Key of the password in `clientSecretName`.
   * @default 'password'
   */
  readonly clientPasswordKey?: string;
}

/** Basic-auth credentials of a Pushgateway client, by reference to a Secret (never inline). */
export interface PushgatewayBasicAuth {
  /** Name of the Secret, in the client's namespace. */
  readonly secretName: string;
  /**
   * Key of the user name in the Secret.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the password in the Secret.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/** Where a client finds the CA certificate(s) that verify an https Pushgateway. */
export class PushgatewayCaCertificate {
  /** Key `key` of the Secret `secretName`, in the client's namespace. */
  public static fromSecret(secretName: string, key: string = 'ca.crt'): PushgatewayCaCertificate {
    return new PushgatewayCaCertificate('Secret', secretName, key);
  }

  /** Key `key` of the ConfigMap `configMapName`, in the client's namespace (e.g. a trust bundle). */
  public static fromConfigMap(configMapName: string, key: string = 'ca.crt'): PushgatewayCaCertificate {
    return new PushgatewayCaCertificate('ConfigMap', configMapName, key);
  }

  private constructor(
    /** `Secret` or `ConfigMap`. */
    public readonly kind: string,
    /** Name of the Secret or ConfigMap. */
    public readonly name: string,
    /** The key that holds the PEM certificate(s). */
    public readonly key: string,
  ) {}
}

/** What a client of the Pushgateway needs to reach it when a web config is set. */
export interface PushgatewayClientAuth {
  /**
   * Basic-auth credentials.
   * @default - no basic auth
   */
  readonly basicAuth?: PushgatewayBasicAuth;
  /**
   * CA certificate that signed the Pushgateway's certificate.
   * @default - the client's default trust store
   */
  readonly ca?: PushgatewayCaCertificate;
}

/**
 * An Ingress that lets pushers outside the cluster reach the Pushgateway. It sends each request
 * to the Service, so with replicas a push through it reaches one replica only.
 */
export interface PushgatewayIngress {
  /** Host name the Ingress serves, e.g. `pushgateway.example.com`. */
  readonly host: string;
  /**
   * IngressClass that implements it.
   * @default - the cluster's default IngressClass
   */
  readonly className?: string;
  /**
   * `kubernetes.io/tls` Secret with the certificate for `host`; without it the Ingress serves plain HTTP.
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
  /**
   * Annotations, e.g. for cert-manager or controller settings.
   * @default - none
   */
  readonly annotations?: Record<string, string>;
  /**
   * The ingress controller pods, which the Pushgateway NetworkPolicy must admit. Required while
   * the NetworkPolicy is on: a policy that silently blocked the controller would break the Ingress.
   * @default - none
   */
  readonly controllerPeers?: PushgatewayPeer[];
  /**
   * Serve the Ingress without basic auth: anyone who reaches it writes and deletes any group, and
   * any series into Prometheus. Without it, an Ingress needs `webConfig.clientSecretName` or
   * `writeScope`.
   * @default false
   */
  readonly allowUnauthenticatedIngress?: boolean;
  /**
   * The ingress controller, told to speak TLS to a Pushgateway that serves HTTPS
   * (`webConfig.tlsSecretName`): required then, unless `annotations` already tell it, because a
   * controller that sends plain HTTP to the TLS port gets every push answered 400.
   * @default - none: refused with a Pushgateway that serves HTTPS
   */
  readonly controller?: IngressController;
}

/** Annotations that make an ingress controller speak TLS to its backend. */
export interface IngressControllerTlsAnnotations {
  /**
   * On the Ingress.
   * @default - none
   */
  readonly ingressAnnotations?: Record<string, string>;
  /**
   * On the Pushgateway's Service.
   * @default - none
   */
  readonly serviceAnnotations?: Record<string, string>;
}

/**
 * The ingress controller in front of the Pushgateway, and what tells it to speak TLS to a
 * Pushgateway that serves HTTPS. None of them verifies the Pushgateway's certificate by these
 * annotations alone, except Traefik, which verifies it against its own trust store unless a
 * serversTransport says otherwise.
 */
export class IngressController {
  /** ingress-nginx (kubernetes/ingress-nginx): `nginx.ingress.kubernetes.io/backend-protocol: HTTPS` on the Ingress. */
  public static readonly INGRESS_NGINX = new IngressController('ingress-nginx', { ingressAnnotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } });
  /** Traefik: `traefik.ingress.kubernetes.io/service.serversscheme: https` on the Service, where Traefik reads it. */
  public static readonly TRAEFIK = new IngressController('traefik', { serviceAnnotations: { 'traefik.ingress.kubernetes.io/service.serversscheme': 'https' } });
  /** HAProxy Kubernetes Ingress Controller (haproxytech): `haproxy.org/server-ssl: "true"` on the Ingress. */
  public static readonly HAPROXY = new IngressController('haproxy', { ingressAnnotations: { 'haproxy.org/server-ssl': 'true' } });

  /** Another controller, with the annotations that make it speak TLS to its backend. */
  public static custom(name: string, backendTls: IngressControllerTlsAnnotations): IngressController {
    return new IngressController(name, backendTls);
  }

  /** The annotations that tell a known controller to speak TLS to its backend, whichever one carries them. */
  public static knownBackendTlsAnnotations(): string[] {
    return [IngressController.INGRESS_NGINX, IngressController.TRAEFIK, IngressController.HAPROXY]
      .flatMap((c) => [...Object.keys(c.backendTls.ingressAnnotations ?? {}), ...Object.keys(c.backendTls.serviceAnnotations ?? {})]);
  }

  private constructor(
    /** A name for people and error messages. */
    public readonly name: string,
    /** What tells it to speak TLS to the Pushgateway. */
    public readonly backendTls: IngressControllerTlsAnnotations,
  ) {}
}
