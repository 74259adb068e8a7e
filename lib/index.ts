export * from './batch-job';
export * from './batch-job-alerts';
export * from './batch-monitoring-chart';
export * from './kube-prometheus-flavour';
export * from './pushgateway';
export * from './pushgateway-peer';
