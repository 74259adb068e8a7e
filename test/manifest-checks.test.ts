import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';
import { restrictedViolations } from './helpers/pod-security';
import { assertValidPromQL } from './helpers/promql';
import { validateAgainstSchemas } from './helpers/schemas';
import { checkManifests } from './helpers/synth';

const dist = path.resolve(__dirname, '..', 'dist');

describe('dist/', () => {
  const files = fs.readdirSync(dist).filter((f) => f.endsWith('.k8s.yaml'));
  const objects = files.flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8')).map((d) => d.toJS()));

  test('passes every manifest check', () => {
    expect(files.length).toBeGreaterThan(0);
    checkManifests(objects);
  });

  test('holds the Pushgateway objects, and the ServiceMonitor port exists on the Service it selects', () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount', 'PersistentVolumeClaim', 'ServiceMonitor', 'NetworkPolicy']));
    for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
      const selected = objects.filter((o) => o.kind === 'Service' && o.metadata.namespace === sm.metadata.namespace
        && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
      expect(selected).toHaveLength(1);
      for (const endpoint of sm.spec.endpoints) {
        expect(endpoint.honorLabels).toBe(true);
        expect(selected[0].spec.ports.map((p: any) => p.name)).toContain(endpoint.port);
      }
    }
  });
});

// The checks themselves must be able to fail, or they prove nothing.
describe('manifest checks catch what they are for', () => {
  test('a schema violation', () => {
    expect(() => validateAgainstSchemas([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'one' } }]))
      .toThrow(/Deployment undefined\/x fails its schema/);
  });

  test('a kind without a schema model', () => {
    expect(() => validateAgainstSchemas([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }])).toThrow(/no schema model for v1\/Pod/);
  });

  test('invalid PromQL', () => {
    expect(() => assertValidPromQL('sum(rate(x[5m])', 'rule')).toThrow(/rule: invalid PromQL/);
  });

  test('a pod outside the restricted profile', () => {
    const violations = restrictedViolations({
      hostNetwork: true,
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
      containers: [{ name: 'c', securityContext: { privileged: true, runAsUser: 0, capabilities: { add: ['SYS_ADMIN'] } }, ports: [{ containerPort: 80, hostPort: 80 }] }],
    });
    expect(violations).toEqual([
      'host namespaces (hostNetwork/hostPID/hostIPC) must not be used',
      'volume host has the disallowed type hostPath',
      'container c must not be privileged',
      'container c must set allowPrivilegeEscalation: false',
      'container c must drop ALL capabilities',
      'container c must not add capability SYS_ADMIN',
      'container c needs seccompProfile RuntimeDefault or Localhost (container or pod)',
      'container c runAsUser must not be 0',
      'container c must run with runAsNonRoot: true (container or pod)',
      'container c must not use hostPort 80',
    ]);
  });
});
