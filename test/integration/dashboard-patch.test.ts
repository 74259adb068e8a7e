import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration } from 'cdk8s';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BatchMonitoringChart } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { synth } from '../helpers/synth';

const kubectl = findBinary('kubectl', 'kubernetes-client');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-patch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'grafana-deployment.yaml');
const GRAFANA_PATCH = path.join(__dirname, '..', '..', 'grafana', 'grafana-dashboard-batch-jobs.patch.json');

/** `kubectl patch --local`: applies a JSON patch to a manifest file without a cluster. */
function patchLocally(manifest: string, patch: string): { status: number | null; stdout: string; stderr: string } {
  // --patch rather than --patch-file: it works with every kubectl, Debian's old one included.
  const r = spawnSync(kubectl!, ['patch', '--local', '-f', manifest, '--type=json', '--patch', patch, '-o', 'yaml'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function grafanaContainer(deployment: any): any {
  return deployment.spec.template.spec.containers.find((c: any) => c.name === 'grafana');
}

describe.skipIf(!kubectl)('the dashboard patch for kube-prometheus\'s grafana Deployment (kubectl patch --local)', () => {
  const chart = new BatchMonitoringChart(new App(), 'batch-monitoring', { cleanupEnabled: false });
  chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
  const configMap = synth(chart).find('ConfigMap', 'grafana-dashboard-batch-jobs');

  it('mounts the dashboard ConfigMap where the kube-prometheus dashboard provider reads', () => {
    const r = patchLocally(FIXTURE, chart.dashboard.grafanaDeploymentPatch());
    expect(r.status, r.stderr).toBe(0);
    const patched = parse(r.stdout);
    const original = parse(fs.readFileSync(FIXTURE, 'utf8'));

    const volume = patched.spec.template.spec.volumes.find((v: any) => v.configMap?.name === configMap.metadata.name);
    expect(volume).toEqual({ name: 'grafana-dashboard-batch-jobs', configMap: { name: 'grafana-dashboard-batch-jobs' } });
    const mount = grafanaContainer(patched).volumeMounts.find((m: any) => m.name === volume.name);
    // the provider reads /grafana-dashboard-definitions/0; Grafana finds <uid>.json, the ConfigMap's key, in the mount
    expect(mount).toEqual({ name: volume.name, mountPath: '/grafana-dashboard-definitions/0/batch-jobs', readOnly: true });
    expect(Object.keys(configMap.data)).toEqual(['batch-jobs.json']);

    // everything that was there stays
    expect(patched.spec.template.spec.volumes.slice(0, -1)).toEqual(original.spec.template.spec.volumes);
    expect(grafanaContainer(patched).volumeMounts.slice(0, -1)).toEqual(grafanaContainer(original).volumeMounts);
  });

  it('is what npm run synth wrote to grafana/ (writeGrafanaFiles)', () => {
    expect(fs.readFileSync(GRAFANA_PATCH, 'utf8')).toBe(chart.dashboard.grafanaDeploymentPatch());
    expect(patchLocally(FIXTURE, fs.readFileSync(GRAFANA_PATCH, 'utf8')).status).toBe(0);
  });

  it('refuses to mount into another container when grafana is not the first one', () => {
    const original = parse(fs.readFileSync(FIXTURE, 'utf8'));
    original.spec.template.spec.containers.unshift({ name: 'sidecar', image: 'busybox', volumeMounts: [] });
    const reordered = path.join(tmp, 'reordered.json');
    fs.writeFileSync(reordered, JSON.stringify(original));
    const r = patchLocally(reordered, chart.dashboard.grafanaDeploymentPatch());
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/test/i);
  });
});
