import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Cron, Duration, Size } from 'cdk8s';
import { Cpu, ImagePullPolicy } from 'cdk8s-plus-27';
import { BatchMonitoringChart, KubePrometheusFlavour, MonitoredCronJob } from '../lib';

// Where your copy of docs/runbooks.md is browsable (your fork or internal Git server): every alert
// links to its section there. example.com stands in for it here.
const RUNBOOKS = 'https://git.example.com/platform/cdk8s-batch-monitoring/-/blob/main/docs/runbooks.md';

const app = new App();
const monitoring = new BatchMonitoringChart(app, 'batch-monitoring', {
  namespace: 'monitoring',
  flavour: KubePrometheusFlavour.kubePrometheus(),
  alerts: { runbookBaseUrl: RUNBOOKS },
});

// A job that reports itself without a code change: its command runs through the push wrapper.
new MonitoredCronJob(monitoring, 'DailyBackup', {
  monitoring,
  jobName: 'daily-backup',
  interval: Duration.hours(24),
  maxDuration: Duration.minutes(5),
  schedule: Cron.daily(),
  wrapCommand: true,
  containers: [{
    name: 'backup',
    image: 'docker.io/library/alpine:3.20',
    imagePullPolicy: ImagePullPolicy.IF_NOT_PRESENT,
    command: ['sh', '-c', 'echo "backing up"; sleep 5'],
    securityContext: { user: 65534, group: 65534, ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    resources: { cpu: { request: Cpu.millis(10), limit: Cpu.millis(100) }, memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) } },
  }],
});
// Jobs that push themselves (see examples/clients/), declared once for alerts, dashboard and cleanup.
monitoring.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
monitoring.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });

app.synth();

// kube-prometheus's Grafana has no sidecar: it needs the dashboard mounted (the patch) or added
// through jsonnet rawDashboards (the JSON).
const dashboard = monitoring.dashboard;
fs.writeFileSync(path.join(app.outdir, `${dashboard.configMapName}.patch.json`), dashboard.grafanaDeploymentPatch());
fs.writeFileSync(path.join(app.outdir, dashboard.fileName), dashboard.dashboardJson());
