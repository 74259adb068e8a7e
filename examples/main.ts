import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration } from 'cdk8s';
import { BatchMonitoringChart, KubePrometheusFlavour } from '../lib';

const app = new App();
const chart = new BatchMonitoringChart(app, 'batch-monitoring', {
  namespace: 'monitoring',
  flavour: KubePrometheusFlavour.kubePrometheus(),
});
chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
chart.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
app.synth();

// kube-prometheus's Grafana has no sidecar: it needs the dashboard mounted (the patch) or added
// through jsonnet rawDashboards (the JSON).
const dashboard = chart.dashboard;
fs.writeFileSync(path.join(app.outdir, `${dashboard.configMapName}.patch.json`), dashboard.grafanaDeploymentPatch());
fs.writeFileSync(path.join(app.outdir, dashboard.fileName), dashboard.dashboardJson());
