export * from './batch-job';
export * from './batch-monitoring-chart';
export * from './cleanup-cron-job';
export * from './kube-prometheus-flavour';
export * from './pushgateway';
export * from './pushgateway-peer';
