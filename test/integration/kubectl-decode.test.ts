import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findBinary } from '../helpers/binaries';
import { decodeWithKubectl } from '../helpers/kubectl';

const kubectl = findBinary('kubectl', 'kubernetes-client');
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-decode-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!kubectl)('`kubectl apply -f dist/` reads every file in dist/ (decoded with kubectl, no cluster)', () => {
  test('every object of dist/ is decoded, and nothing else is there', () => {
    const r = decodeWithKubectl(kubectl!, dist);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const objects = fs.readdirSync(dist).flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8')).map((d) => d.toJS()));
    expect(r.names).toHaveLength(objects.length);
    expect(r.names).toContain('servicemonitor.monitoring.coreos.com/pushgateway');
  });

  test('fails for what used to sit in dist/: the dashboard JSON and the Grafana patch', () => {
    fs.copyFileSync(path.join(dist, 'batch-monitoring.k8s.yaml'), path.join(tmp, 'batch-monitoring.k8s.yaml'));
    fs.copyFileSync(path.join(root, 'grafana', 'grafana-dashboard-batch-jobs.patch.json'), path.join(tmp, 'patch.json'));
    const r = decodeWithKubectl(kubectl!, tmp);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unable to decode ".*patch\.json": json: cannot unmarshal array/);
    fs.rmSync(path.join(tmp, 'patch.json'));
    fs.copyFileSync(path.join(root, 'grafana', 'batch-jobs.json'), path.join(tmp, 'batch-jobs.json'));
    const dashboard = decodeWithKubectl(kubectl!, tmp);
    expect(dashboard.status).not.toBe(0);
    expect(dashboard.stderr).toMatch(/batch-jobs\.json.*[Kk]ind/);
  });
});
