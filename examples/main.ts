import { App, Duration } from 'cdk8s';
import { BatchMonitoringChart, KubePrometheusFlavour } from '../lib';

// Set runbookBaseUrl to where your copy of docs/runbooks.md is browsable (your fork or internal Git
// server); every alert links to its section there.
const RUNBOOKS = 'https://github.com/cdk8s-batch-monitoring/cdk8s-batch-monitoring/blob/main/docs/runbooks.md';

const app = new App();
const chart = new BatchMonitoringChart(app, 'batch-monitoring', {
  namespace: 'monitoring',
  flavour: KubePrometheusFlavour.kubePrometheus(),
  alerts: { runbookBaseUrl: RUNBOOKS },
});
chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
chart.addJob({ name: 'log-cleanup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
app.synth();
