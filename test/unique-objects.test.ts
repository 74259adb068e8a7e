import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { KubeService } from 'cdk8s-plus-27/lib/imports/k8s';
import { describe, expect, test } from 'vitest';
import { BatchMonitoringChart, Pushgateway } from '../lib';
import { synthApp } from './helpers/synth';

describe('objects defined twice in one app', () => {
  test('fails with two BatchMonitoringCharts in one namespace with default names, naming both paths and the fix', () => {
    const app = Testing.app();
    new BatchMonitoringChart(app, 'team-a');
    new BatchMonitoringChart(app, 'team-b');
    let message = '';
    try {
      synthApp(app);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/team-b\/Pushgateway\/Deployment: invalid object "apps\/v1 Deployment monitoring\/pushgateway": team-a\/Pushgateway\/Deployment defines it too, and kubectl apply would keep only one of them: give one of the two constructs another name or namespace/);
    // Every shared object is named, not only the first.
    for (const kind of ['v1 Service', 'monitoring.coreos.com/v1 PrometheusRule', 'monitoring.coreos.com/v1 ServiceMonitor', 'v1 ConfigMap']) {
      expect(message).toContain(`"${kind} monitoring/`);
    }
  });

  test('fails when an object of the app itself, outside the library, has a library object\'s identity', () => {
    const app = Testing.app();
    new BatchMonitoringChart(app, 'monitoring');
    const other = new Chart(app, 'other', { namespace: 'monitoring' });
    new KubeService(other, 'MyPushgateway', { metadata: { name: 'pushgateway' }, spec: { ports: [{ port: 80 }] } });
    expect(() => synthApp(app)).toThrow(/other\/MyPushgateway: invalid object "v1 Service monitoring\/pushgateway": monitoring\/Pushgateway\/Service defines it too/);
  });

  test('fails with two BatchMonitoringCharts in two namespaces that share Grafana\'s dashboard ConfigMap', () => {
    const app = Testing.app();
    new BatchMonitoringChart(app, 'team-a', { namespace: 'team-a' });
    new BatchMonitoringChart(app, 'team-b', { namespace: 'team-b' });
    expect(() => synthApp(app)).toThrow(/team-b\/Dashboard\/ConfigMap: invalid object "v1 ConfigMap monitoring\/grafana-dashboard-batch-jobs": team-a\/Dashboard\/ConfigMap defines it too/);
  });

  test('passes when the objects differ in namespace, kind or API group', () => {
    const app = Testing.app();
    new BatchMonitoringChart(app, 'team-a', { namespace: 'team-a' });
    // The dashboards both live in Grafana's namespace: the uid names them apart.
    new BatchMonitoringChart(app, 'team-b', { namespace: 'team-b', dashboard: { uid: 'batch-jobs-team-b' } });
    const chart = new Chart(app, 'own', { namespace: 'team-a' });
    // A Service and a ConfigMap may share a name; so may two kinds named alike in other groups.
    new ApiObject(chart, 'Config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pushgateway' } });
    new ApiObject(chart, 'Other', { apiVersion: 'example.com/v1', kind: 'Service', metadata: { name: 'pushgateway' } });
    expect(() => app.synthYaml()).not.toThrow();
  });

  test('one check per app, however many of the library\'s constructs it holds', () => {
    const app = new App({ outdir: Testing.app().outdir });
    const chart = new Chart(app, 'c', { namespace: 'monitoring' });
    new Pushgateway(chart, 'A', { name: 'a' });
    new Pushgateway(chart, 'B', { name: 'b' });
    expect(app.node.validate()).toEqual([]);
    new Pushgateway(new Chart(app, 'd', { namespace: 'monitoring' }), 'A', { name: 'a' });
    expect(app.node.validate().length).toBeGreaterThan(0);
    // Listed once each, not once per construct that asked for the check.
    expect(new Set(app.node.validate()).size).toBe(app.node.validate().length);
  });
});
