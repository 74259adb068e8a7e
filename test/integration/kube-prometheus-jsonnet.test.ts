import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findBinary } from '../helpers/binaries';

/**
 * The kube-prometheus jsonnet build of docs/kube-prometheus-jsonnet.md (examples/kube-prometheus.jsonnet), evaluated with
 * Debian's jsonnet against the committed dist/, with a stand-in for kube-prometheus's
 * main.libsonnet that keeps its Grafana dashboard contract (test/fixtures/jsonnet).
 */
const jsonnet = findBinary('jsonnet', 'jsonnet');
const root = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(root, 'examples', 'kube-prometheus.jsonnet');
const app = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-prometheus-jsonnet-'));
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

describe.skipIf(!jsonnet)('kube-prometheus jsonnet build with the synthesized output', () => {
  const example = fs.readFileSync(EXAMPLE, 'utf8');
  // A cdk8s app's folder: dist/ and grafana/ from `npm run synth`, then the documented command for the JSON.
  fs.cpSync(path.join(root, 'dist'), path.join(app, 'dist'), { recursive: true });
  fs.cpSync(path.join(root, 'grafana'), path.join(app, 'grafana'), { recursive: true });
  const convert = example.split('\n').find((l) => l.startsWith('// npx '))!.slice('// '.length);
  execFileSync('sh', ['-c', convert], { cwd: app, env: { ...process.env, npm_config_prefer_offline: 'true' } });
  const output = JSON.parse(execFileSync(jsonnet!, ['-J', path.join(root, 'test', 'fixtures', 'jsonnet'), '-J', app, EXAMPLE], { encoding: 'utf8' }));
  const synthesized = parseAllDocuments(fs.readFileSync(path.join(root, 'dist', 'batch-monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());

  it('is shown in docs/kube-prometheus-jsonnet.md as it is tested', () => {
    expect(fs.readFileSync(path.join(root, 'docs', 'kube-prometheus-jsonnet.md'), 'utf8')).toContain(`\`\`\`jsonnet\n${example}\`\`\``);
  });

  it('leaves dist/ with the manifests only, for `kubectl apply -f dist/`', () => {
    expect(fs.readdirSync(path.join(app, 'dist'))).toEqual(['batch-monitoring.k8s.yaml']);
  });

  it('adds every synthesized object unchanged, one file each', () => {
    const added = Object.entries(output).filter(([file]) => file.startsWith('batch-monitoring-')).map(([, o]) => o);
    // jsonnet orders an object's fields by name, so the files come sorted.
    expect(added).toHaveLength(synthesized.length);
    expect(added).toEqual(expect.arrayContaining(synthesized));
    // Versions such as 1.11.3 stay strings (the reason for JSON: jsonnet 0.18's parseYaml fails on them).
    expect((output['batch-monitoring-deployment-pushgateway'] as any).metadata.labels['app.kubernetes.io/version']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('puts the dashboard into kube-prometheus\'s Grafana as a raw dashboard', () => {
    const definitions = output['grafana-dashboardDefinitions'];
    const configMap = definitions.items.find((c: any) => c.metadata.name === 'grafana-dashboard-batch-jobs-dashboard');
    expect(configMap.metadata.namespace).toBe('monitoring');
    expect(configMap.data['batch-jobs-dashboard.json']).toBe(fs.readFileSync(path.join(root, 'grafana', 'batch-jobs.json'), 'utf8'));
    expect(output['grafana-deployment'].spec.template.spec.containers[0].volumeMounts).toContainEqual({
      name: 'grafana-dashboard-batch-jobs-dashboard', mountPath: '/grafana-dashboard-definitions/0/batch-jobs-dashboard',
    });
    // The dashboard ConfigMap of dist/ stays beside it under its own name: no two objects collide.
    expect(synthesized.map((o) => o.metadata.name)).toContain('grafana-dashboard-batch-jobs');
  });
});
