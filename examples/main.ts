import * as path from 'node:path';
import { App, Cron, Duration } from 'cdk8s';
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
  // Runs as nobody (65534) with small requests and IfNotPresent: the MonitoredCronJob defaults.
  containers: [{ name: 'backup', image: 'docker.io/library/alpine:3.20', command: ['sh', '-c', 'echo "backing up"; sleep 5'] }],
});
// Jobs that push themselves (see examples/clients/), declared once for alerts, dashboard and cleanup.
monitoring.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
monitoring.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });

app.synth();

// kube-prometheus's Grafana has no sidecar: it needs the dashboard mounted (the patch) or added
// through jsonnet rawDashboards (the JSON). Both go to grafana/ beside the synth output (dist/),
// where `kubectl apply -f dist/` does not look.
monitoring.dashboard.writeGrafanaFiles(path.join(path.dirname(app.outdir), 'grafana'));
