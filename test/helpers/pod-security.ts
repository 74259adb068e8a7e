/**
 * The Pod Security Standards "restricted" profile (which includes "baseline"), checked on every pod
 * template the library synthesizes. Rules as documented at
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/ (policy version v1.27+).
 */

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

/** The pod spec inside a workload object, if it has one. */
export function podSpecOf(obj: any): any | undefined {
  switch (obj.kind) {
    case 'Pod': return obj.spec;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return obj.spec?.template?.spec;
    case 'CronJob': return obj.spec?.jobTemplate?.spec?.template?.spec;
    default: return undefined;
  }
}

/** The violations of the restricted profile in one pod spec; empty when it passes. */
export function restrictedViolations(pod: any): string[] {
  const v: string[] = [];
  const podSc = pod.securityContext ?? {};
  const containers: any[] = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) v.push('host namespaces (hostNetwork/hostPID/hostIPC) must not be used');
  for (const vol of pod.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.includes(type)) v.push(`volume ${vol.name} has the disallowed type ${type}`);
  }
  for (const s of podSc.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) v.push(`sysctl ${s.name} is not in the safe set`);
  const checkSeLinux = (where: string, o: any) => {
    if (!o) return;
    if (!SELINUX_TYPES.includes(o.type ?? '')) v.push(`${where}: seLinuxOptions.type ${o.type} is not allowed`);
    if (o.user || o.role) v.push(`${where}: seLinuxOptions.user/role must not be set`);
  };
  checkSeLinux('pod', podSc.seLinuxOptions);
  const seccompOk = (p: any) => p?.type === 'RuntimeDefault' || p?.type === 'Localhost';
  if (podSc.seccompProfile && !seccompOk(podSc.seccompProfile)) v.push(`pod seccompProfile ${podSc.seccompProfile.type} is not allowed`);
  if (podSc.runAsUser === 0) v.push('pod runAsUser must not be 0');
  if (podSc.runAsNonRoot === false) v.push('pod runAsNonRoot must not be false');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) v.push(`${where} must not be privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${where} must set allowPrivilegeEscalation: false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${where} must drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${where} must not add capability ${cap}`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${where} procMount must be Default`);
    checkSeLinux(where, sc.seLinuxOptions);
    if (sc.seccompProfile && !seccompOk(sc.seccompProfile)) v.push(`${where} seccompProfile ${sc.seccompProfile.type} is not allowed`);
    if (!seccompOk(sc.seccompProfile) && !seccompOk(podSc.seccompProfile)) v.push(`${where} needs seccompProfile RuntimeDefault or Localhost (container or pod)`);
    if (sc.runAsUser === 0) v.push(`${where} runAsUser must not be 0`);
    if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true)) v.push(`${where} must run with runAsNonRoot: true (container or pod)`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${where} must not use hostPort ${p.hostPort}`);
  }
  return v;
}

/** Every pod template among `objects` passes the restricted profile. */
export function checkPodSecurityRestricted(objects: any[]): void {
  for (const obj of objects) {
    const pod = podSpecOf(obj);
    if (!pod) continue;
    const violations = restrictedViolations(pod);
    if (violations.length) {
      throw new Error(`${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name} violates Pod Security "restricted":\n  ${violations.join('\n  ')}`);
    }
  }
}
