// What every pod of the library shares to meet Pod Security "restricted".

/**
 * `nobody` (65534): the Pushgateway image's user (`USER 65534` in its Dockerfile), and BusyBox's
 * and Debian's, so a wrapped job needs no user of its own. Numeric, so the kubelet can verify
 * runAsNonRoot without reading the image; it also owns volumes through fsGroup.
 */
export const NOBODY = 65534;

/** The container settings "restricted" asks for besides a non-root user and dropping every capability. */
export const RESTRICTED_CONTAINER = {
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
} as const;

/**
 * A raw (k8s L1) container's security context for "restricted", as nobody: the Pushgateway's and
 * its write-scope proxy's containers.
 */
export const RESTRICTED_RAW_CONTAINER_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: NOBODY,
  runAsGroup: NOBODY,
  ...RESTRICTED_CONTAINER,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
