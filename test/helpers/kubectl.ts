import { spawnSync } from 'node:child_process';

/**
 * What `kubectl apply -f <dir>` reads, decoded without a cluster: `kubectl annotate --local` reads
 * every file in the folder the way apply does (YAML or JSON, one object or many) and prints one
 * name per object. `kubectl apply --dry-run=client` cannot do this: it asks the API server for
 * the kinds (discovery) and fails without one. KUBECONFIG=/dev/null makes sure no server is asked.
 */
export function decodeWithKubectl(kubectl: string, dir: string): { status: number | null; names: string[]; stderr: string } {
  const r = spawnSync(kubectl, ['annotate', '--local', '-f', dir, '-o', 'name', 'batch-monitoring.io/decoded=true'], {
    encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' },
  });
  return { status: r.status, names: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}
