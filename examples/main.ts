import { App } from 'cdk8s';
import { BatchMonitoringChart, KubePrometheusFlavour } from '../lib';

const app = new App();
new BatchMonitoringChart(app, 'batch-monitoring', {
  namespace: 'monitoring',
  flavour: KubePrometheusFlavour.kubePrometheus(),
});
app.synth();
