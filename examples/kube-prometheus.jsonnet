// kube-prometheus built with jsonnet, plus what the cdk8s app wrote: the manifests of dist/ as they
// are, and the dashboard (grafana/, from writeGrafanaFiles) in kube-prometheus's own Grafana. The
// manifests are read as JSON, converted outside dist/ (kubectl apply -f dist/ reads every file there):
// npx --yes yaml@2 --json < dist/batch-monitoring.k8s.yaml > batch-monitoring.k8s.json
local kp = (import 'kube-prometheus/main.libsonnet') + {
  values+:: {
    common+: { namespace: 'monitoring' },
    grafana+: {
      rawDashboards+:: {
        // Not 'batch-jobs.json': kube-prometheus would name its ConfigMap grafana-dashboard-batch-jobs,
        // the name of the ConfigMap in dist/batch-monitoring.k8s.yaml.
        'batch-jobs-dashboard.json': (importstr 'grafana/batch-jobs.json'),
      },
    },
  },
};
local batchMonitoring = std.parseJson(importstr 'batch-monitoring.k8s.json');

// kube-prometheus's other components, as in its example.jsonnet.
{ ['grafana-' + name]: kp.grafana[name] for name in std.objectFields(kp.grafana) } +
{
  ['batch-monitoring-' + std.asciiLower(o.kind) + '-' + o.metadata.name]: o
  for o in batchMonitoring
}
