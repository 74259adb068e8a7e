/**
 * Who an object belongs to, in the kube-prometheus label convention.
 */
export interface ObjectIdentity {
  /** `app.kubernetes.io/name`: the object name of the component, e.g. `pushgateway`. */
  readonly name: string;
  /** `app.kubernetes.io/component`, e.g. `exporter`. */
  readonly component: string;
  /** `app.kubernetes.io/part-of`. */
  readonly partOf: string;
  /** `app.kubernetes.io/version`, without a leading `v`; left out when unknown. */
  readonly version?: string;
}

/** The labels every object of a component carries. */
export function objectLabels(id: ObjectIdentity): Record<string, string> {
  return {
    ...selectorLabels(id),
    ...(id.version ? { 'app.kubernetes.io/version': id.version } : {}),
  };
}

/**
 * The labels selectors use: the object labels minus the version, so that an image upgrade never
 * changes a (immutable) Deployment selector. They derive from names given in props, never from the
 * construct path, so renaming or moving a construct leaves them alone.
 */
export function selectorLabels(id: ObjectIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/name': id.name,
    'app.kubernetes.io/component': id.component,
    'app.kubernetes.io/part-of': id.partOf,
  };
}

/** The `app.kubernetes.io/part-of` value the library uses unless told otherwise. */
export const DEFAULT_PART_OF = 'batch-monitoring';

/** The version in an image reference's tag (`quay.io/prometheus/pushgateway:v1.11.3` gives `1.11.3`). */
export function imageVersion(image: string): string | undefined {
  const withoutDigest = image.split('@')[0];
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  if (!tag || tag === 'latest') return undefined;
  const version = tag.replace(/^v(?=\d)/, '');
  return /^[A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]$|^[A-Za-z0-9]$/.test(version) ? version : undefined;
}
