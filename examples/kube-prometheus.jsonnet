// kube-prometheus built with jsonnet, plus what `npm run synth` wrote to dist/: the manifests as
// they are, and the dashboard in kube-prometheus's own Grafana. The manifests are read as JSON:
// npx --yes yaml@2 --json < dist/batch-monitoring.k8s.yaml > dist/batch-monitoring.k8s.json
local kp = (import 'kube-prometheus/main.libsonnet') + {
  values+:: {
    common+: { namespace: 'monitoring' },
    grafana+: {
      rawDashboards+:: {
        // Not 'batch-jobs.json': kube-prometheus would name its ConfigMap grafana-dashboard-batch-jobs,
        // the name of the ConfigMap in dist/batch-monitoring.k8s.yaml.
        'batch-jobs-dashboard.json': (importstr 'dist/batch-jobs.json'),
      },
    },
  },
};
local batchMonitoring = std.parseJson(importstr 'dist/batch-monitoring.k8s.json');

// kube-prometheus's other components, as in its example.jsonnet.
{ ['grafana-' + name]: kp.grafana[name] for name in std.objectFields(kp.grafana) } +
{
  ['batch-monitoring-' + std.asciiLower(o.kind) + '-' + o.metadata.name]: o
  for o in batchMonitoring
}
