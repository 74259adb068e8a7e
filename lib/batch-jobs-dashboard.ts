import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { KubePrometheusFlavour } from './kube-prometheus-flavour';
import { buildDashboard } from './dashboard-model';
import { objectLabels } from './object-labels';
import { IPushgateway } from './pushgateway-interface';
import { refuseDuplicateObjects } from './unique-objects';
import { checkPositive, checkRequired, invalidInput, isDnsLabel, REQUIRED_PUSHGATEWAY, REQUIRED_STRING } from './validation';

/** Dashboard settings, as `BatchMonitoringChart` takes them. */
export interface BatchJobsDashboardOptions {
  /**
   * Grafana uid: stable across deployments so that links and bookmarks survive. Also names the
   * ConfigMap (`grafana-dashboard-<uid>`), its key (`<uid>.json`) and the kube-prometheus mount
   * (`/grafana-dashboard-definitions/0/<uid>`), so it must be a DNS label of at most 40 characters.
   * @default 'batch-jobs'
   */
  readonly uid?: string;
  /**
   * Dashboard title.
   * @default 'Batch jobs / Pushgateway'
   */
  readonly title?: string;
  /**
   * Dashboard tags (Grafana's search and dashboard links use them).
   * @default ['batch-jobs', 'pushgateway']
   */
  readonly tags?: string[];
  /**
   * How often Grafana reloads the panels; at least 5 seconds (Grafana's default minimum).
   * @default Duration.minutes(1)
   */
  readonly refresh?: Duration;
  /**
   * Time range shown when the dashboard opens, ending now.
   * @default Duration.days(7)
   */
  readonly timeRange?: Duration;
}

/** Props for `BatchJobsDashboard`. */
export interface BatchJobsDashboardProps extends BatchJobsDashboardOptions {
  /** The Pushgateway the jobs push to; its health panels are scoped to its scrape job and namespace. */
  readonly pushgateway: IPushgateway;
  /**
   * The kube-prometheus flavour whose Grafana loads the dashboard.
   * @default - the Pushgateway's flavour
   */
  readonly flavour?: KubePrometheusFlavour;
}

// Grafana's own limit on dashboard uids.
const GRAFANA_UID = /^[a-zA-Z0-9_-]{1,40}$/;

/** The dashboard's uid unless given; the alerts' `dashboard_url` links to it. */
export const DEFAULT_DASHBOARD_UID = 'batch-jobs';

/** Whether `uid` is a uid Grafana accepts. */
export function isGrafanaUid(uid: string): boolean {
  return GRAFANA_UID.test(uid);
}
// Grafana's default `min_refresh_interval`.
const MIN_REFRESH_SECONDS = 5;

/**
 * The Grafana dashboard for the batch jobs: one table row per job, run history, and the health of
 * each Pushgateway replica. The per-job thresholds (interval, grace, max duration) are not in the
 * dashboard: it joins on the series the job registry publishes to Prometheus, so it is the same
 * for 10 or 1000 jobs and shows jobs declared in any app against the same Pushgateway.
 *
 * It is delivered as a ConfigMap labelled for the kube-prometheus-stack Grafana sidecar. The
 * kube-prometheus (jsonnet) Grafana has no sidecar: mount the ConfigMap with
 * `grafanaDeploymentPatch()`, or add `dashboardJson()` to its jsonnet `rawDashboards`.
 */
export class BatchJobsDashboard extends Construct {
  /** The Grafana uid. */
  public readonly uid: string;
  /** The dashboard title. */
  public readonly title: string;
  /** The flavour whose Grafana loads the dashboard. */
  public readonly flavour: KubePrometheusFlavour;
  /** Name of the ConfigMap, and of the volume in the kube-prometheus Grafana Deployment. */
  public readonly configMapName: string;
  /** Key of the dashboard JSON in the ConfigMap. */
  public readonly fileName: string;
  /** Where kube-prometheus's Grafana reads the dashboard from once the ConfigMap is mounted. */
  public readonly mountPath: string;
  /** The ConfigMap that holds the dashboard JSON. */
  public readonly configMap: k8s.KubeConfigMap;
  private readonly pushgateway: IPushgateway;
  private readonly tags: string[];
  private readonly refresh: Duration;
  private readonly timeRange: Duration;

  constructor(scope: Construct, id: string, props: BatchJobsDashboardProps) {
    super(scope, id);
    checkRequired(this, 'BatchJobsDashboardProps', props, { pushgateway: REQUIRED_PUSHGATEWAY });
    refuseDuplicateObjects(this);
    this.pushgateway = props.pushgateway;
    this.flavour = props.flavour ?? props.pushgateway.flavour;
    this.uid = props.uid ?? DEFAULT_DASHBOARD_UID;
    if (!isGrafanaUid(this.uid)) {
      throw invalidInput(this, 'uid', this.uid, 'use at most 40 letters, digits, "-" or "_", as Grafana requires, e.g. "batch-jobs"');
    }
    // The ConfigMap and volume names built from the uid must be DNS labels.
    if (!isDnsLabel(this.uid)) {
      throw invalidInput(this, 'uid', this.uid,
        `use lower-case letters, digits and "-", starting and ending with a letter or digit, e.g. "${this.uid.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '')}": `
        + 'the uid also names the ConfigMap and its volume in the Grafana Deployment');
    }
    this.title = props.title ?? 'Batch jobs / Pushgateway';
    if (!this.title.trim()) throw invalidInput(this, 'title', this.title, 'give the dashboard a title, e.g. "Batch jobs / Pushgateway"');
    this.tags = props.tags ?? ['batch-jobs', 'pushgateway'];
    for (const tag of this.tags) {
      if (!tag.trim()) throw invalidInput(this, 'tags', this.tags, 'remove the empty tag');
    }
    this.refresh = props.refresh ?? Duration.minutes(1);
    const refreshMs = this.refresh.toMilliseconds();
    if (refreshMs < MIN_REFRESH_SECONDS * 1000 || refreshMs % 1000 !== 0) {
      throw invalidInput(this, 'refresh', this.refresh.toHumanString(),
        `use whole seconds, at least ${MIN_REFRESH_SECONDS} (Grafana ignores shorter refresh intervals), e.g. Duration.minutes(1)`);
    }
    this.timeRange = props.timeRange ?? Duration.days(7);
    checkPositive(this, 'timeRange', this.timeRange);

    this.configMapName = `grafana-dashboard-${this.uid}`;
    this.fileName = `${this.uid}.json`;
    this.mountPath = `/grafana-dashboard-definitions/0/${this.uid}`;
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: {
        name: this.configMapName,
        namespace: this.flavour.namespace,
        labels: {
          ...objectLabels({
            name: this.configMapName,
            component: 'dashboard',
            partOf: this.pushgateway.labels['app.kubernetes.io/part-of'],
          }),
          ...this.flavour.dashboardLabels(),
        },
      },
      data: { [this.fileName]: this.dashboardJson() },
    });
  }

  /**
   * The dashboard as Grafana's classic JSON model (what the ConfigMap holds), for jsonnet
   * `rawDashboards` or Grafana's import. Keys are sorted, and no job goes into it: the same props give the same bytes.
   */
  public dashboardJson(): string {
    const model = buildDashboard({
      uid: this.uid,
      title: this.title,
      tags: this.tags,
      refresh: grafanaInterval(this.refresh),
      from: `now-${grafanaInterval(this.timeRange)}`,
      pushgateway: { name: this.pushgateway.name, namespace: this.pushgateway.namespace },
    });
    return `${JSON.stringify(sortKeys(model), null, 2)}\n`;
  }

  /**
   * A JSON patch (RFC 6902) for kube-prometheus's `grafana` Deployment that mounts the ConfigMap
   * where its dashboard provider looks (`/grafana-dashboard-definitions/0/<uid>`), e.g.
   * `kubectl -n monitoring patch deployment grafana --type=json --patch-file <file>`. It first
   * tests that the first container is `grafana`, so it fails instead of mounting into another one.
   */
  public grafanaDeploymentPatch(): string {
    const patch = [
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'grafana' },
      {
        op: 'add',
        path: '/spec/template/spec/volumes/-',
        value: { name: this.configMapName, configMap: { name: this.configMapName } },
      },
      {
        op: 'add',
        path: '/spec/template/spec/containers/0/volumeMounts/-',
        value: { name: this.configMapName, mountPath: this.mountPath, readOnly: true },
      },
    ];
    return `${JSON.stringify(patch, null, 2)}\n`;
  }

  /**
   * Writes the two files kube-prometheus's (jsonnet) Grafana needs, creating `directory`:
   * `dashboardJson()` as `<directory>/<uid>.json` (for jsonnet `rawDashboards`) and
   * `grafanaDeploymentPatch()` as `<directory>/grafana-dashboard-<uid>.patch.json` (for
   * `kubectl patch`). Call it in the app beside `app.synth()`, e.g.
   * `monitoring.dashboard.writeGrafanaFiles('grafana')`. The directory must lie outside the synth
   * output: `kubectl apply -f dist/` reads every file there, and these are not manifests.
   * @param directory where to write them, relative to the working directory (the app's folder under `cdk8s synth`)
   * @returns the paths of the files written
   */
  public writeGrafanaFiles(directory: string): string[] {
    if (!REQUIRED_STRING.accepts(directory)) {
      throw invalidInput(this, 'writeGrafanaFiles() directory', directory, 'give the folder to write to, outside the synth output, e.g. "grafana"');
    }
    const target = path.resolve(directory);
    const outdir = path.resolve(App.of(this).outdir);
    const inside = path.relative(outdir, target);
    if (inside === '' || !(inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside))) {
      throw invalidInput(this, 'writeGrafanaFiles() directory', directory,
        `use a folder outside the synth output ${outdir} (e.g. "grafana"): \`kubectl apply -f\` on that output would read these files as manifests and fail`);
    }
    fs.mkdirSync(target, { recursive: true });
    const files: Array<[string, string]> = [
      [path.join(target, this.fileName), this.dashboardJson()],
      [path.join(target, `${this.configMapName}.patch.json`), this.grafanaDeploymentPatch()],
    ];
    for (const [file, content] of files) fs.writeFileSync(file, content);
    return files.map(([file]) => file);
  }
}

/** A Duration as Grafana writes intervals: one whole unit (`30s`, `5m`, `1h`, `7d`). */
function grafanaInterval(duration: Duration): string {
  const seconds = Math.round(duration.toSeconds({ integral: false }));
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A deep copy with object keys in sorted order, so the JSON does not depend on how it was built. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
