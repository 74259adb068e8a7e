export * from './batch-job';
export * from './batch-jobs-dashboard';
export * from './batch-monitoring-chart';
export * from './kube-prometheus-flavour';
export * from './monitored-cron-job';
export * from './pushgateway';
export * from './pushgateway-peer';
export * from './pushgateway-web-config';
