/**
 * The batch-jobs dashboard as Grafana's classic JSON model, built with the Grafana Foundation SDK.
 * The SDK is a 0.0.x preview whose classic builder is marked deprecated, so it stays behind this
 * one file: nothing else imports it, and nothing of it reaches the public API.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  Dashboard, DashboardBuilder, DashboardCursorSync, DataSourceRef, DatasourceVariableBuilder, DataTransformerConfig, DynamicConfigValue,
  MappingType, QueryVariableBuilder, RowBuilder, SpecialValueMatch, ThresholdsConfigBuilder, ThresholdsMode, ValueMapping,
  VariableRefresh, VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import * as units from '@grafana/grafana-foundation-sdk/units';
import {
  JOB_INFO, JOB_LAST_RUN_DURATION, JOB_LAST_RUN_SUCCESS, JOB_LAST_SUCCESS, jobSeries, pushgatewayId, Threshold, thresholdSeries,
} from './job-series';
import { matcher, selector } from './promql';

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly tags: string[];
  /** Grafana interval strings, e.g. `1m`, `now-7d`. */
  readonly refresh: string;
  readonly from: string;
  /** The Pushgateway's name (its Service, and the scrape job of its own series) and namespace. */
  readonly pushgateway: { readonly name: string; readonly namespace: string };
}

/** Every panel and query reads from the data source the user picks in the `datasource` variable. */
const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/**
 * Labels Prometheus adds to every series it scrapes from the Pushgateway. They change when the pod
 * is replaced, so queries aggregate them away. `instance` is not among them for pushed series:
 * with honorLabels the Pushgateway's own `instance` (empty, or the grouping key's) wins.
 */
const TARGET_LABELS = ['container', 'endpoint', 'namespace', 'pod', 'service'];

const GREEN = 'green';
const ORANGE = 'orange';
const RED = 'red';

export function buildDashboard(spec: DashboardSpec): object {
  const gateway = pushgatewayId(spec.pushgateway);
  const jobs = matcher('job', '$job', '=~');
  const batch = (metric: string) => selector(metric, [jobs]);
  const perJob = (metric: string) => `max by (job) (${batch(metric)})`;
  // The records of the alert rules and the thresholds of the job registry: one series per job,
  // whichever app declared it, so the queries are the same however many jobs there are.
  const recorded = (metric: string) => `max by (job) (${jobSeries(metric, gateway, [jobs])})`;
  // A run with several wrapped containers failed when one of them did.
  const lastResult = `min by (job) (${jobSeries(JOB_LAST_RUN_SUCCESS, gateway, [jobs])})`;
  const threshold = (name: Threshold) => `max by (job) (${thresholdSeries(gateway, name, [jobs])})`;

  // Series the Pushgateway holds for pushed groups: scoped to this Pushgateway's Service, which
  // honorLabels leaves alone (unlike `job`, which is the pushed one).
  const pushed = (metric: string) => selector(metric, [
    jobs, matcher('namespace', spec.pushgateway.namespace), matcher('service', spec.pushgateway.name)]);
  const perGroup = (metric: string) => `max without (${TARGET_LABELS.join(', ')}) (${pushed(metric)})`;
  // The Pushgateway's own series (up, request counters) carry its scrape job.
  const own = (metric: string, extra: string[] = []) => selector(metric, [
    ...extra, matcher('job', spec.pushgateway.name), matcher('namespace', spec.pushgateway.namespace)]);

  const sinceSuccess = `time() - ${recorded(JOB_LAST_SUCCESS)}`;
  const lastDuration = recorded(JOB_LAST_RUN_DURATION);
  const maxDuration = threshold(Threshold.MAX_DURATION);

  const ids = counter();
  const rowPanel = (title: string) => new RowBuilder(title).id(ids()).datasource(DATASOURCE);

  const overviewRow = rowPanel('Overview');
  const overview = new TablePanel()
    .id(ids()).title('Jobs').datasource(DATASOURCE).span(24).height(10)
    .description('One row per job, from its newest push across replicas. Schedule compares the time since the last success '
      + 'with the job\'s interval (late) and interval plus grace (overdue, BatchJobNotRunning fires); "of max" compares the last '
      + 'run\'s duration with the job\'s max duration. Both need the job to be declared to a job registry (in any app); '
      + '"unknown" means it is not, or never succeeded.')
    .targets([
      tableQuery('A', lastResult),
      tableQuery('B', `${recorded(JOB_LAST_SUCCESS)} * 1000`),
      tableQuery('C', sinceSuccess),
      tableQuery('D', `(${sinceSuccess} > bool on (job) ${threshold(Threshold.INTERVAL)})`
        + ` + (${sinceSuccess} > bool on (job) ${threshold(Threshold.DEADLINE)})`),
      tableQuery('E', lastDuration),
      tableQuery('F', `${lastDuration} / on (job) ${maxDuration}`),
      tableQuery('G', perJob('batch_job_records_processed')),
    ])
    .transformations([merge(), organize(['job', 'A', 'D', 'B', 'C', 'E', 'F', 'G'], { job: 'Job' })])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Job')])
    .overrideByName('Value #A', column('Last result', [mappings({ 0: ['failed', RED], 1: ['ok', GREEN] })], true))
    .overrideByName('Value #B', column('Last success', [unit(units.DatetimeISO)]))
    .overrideByName('Value #C', column('Since last success', [unit(units.DurationSeconds)]))
    .overrideByName('Value #D', column('Schedule', [
      mappings({ 0: ['on time', GREEN], 1: ['late', ORANGE], 2: ['overdue', RED] }, 'unknown'),
    ], true))
    .overrideByName('Value #E', column('Last duration', [unit(units.DurationSeconds)]))
    .overrideByName('Value #F', column('Of max duration', [
      unit(units.PercentUnit),
      { id: 'thresholds', value: steps([GREEN, null], [ORANGE, 0.8], [RED, 1]).build() },
    ], true))
    .overrideByName('Value #G', column('Records processed', [unit(units.Short)]));

  const runsRow = rowPanel('Runs');
  const successTimeline = new StateTimelinePanel()
    .id(ids()).title('Success / failure').datasource(DATASOURCE).span(24).height(7)
    .description('batch_job_success of each job over time: the result of its last run.')
    .withTarget(rangeQuery('A', lastResult, '{{job}}'))
    .mappings(valueMappings({ 0: ['failed', RED], 1: ['ok', GREEN] }))
    .mergeValues(true).showValue(common.VisibilityMode.Never).fillOpacity(80).perPage(20)
    .legend(new common.VizLegendOptionsBuilder().showLegend(false));

  const durations = new TimeseriesPanel()
    .id(ids()).title('Run duration').datasource(DATASOURCE).span(8).height(8)
    .description('Duration of each job\'s last run, and (dashed) the max duration it was declared with.')
    .targets([
      rangeQuery('A', lastDuration, '{{job}}'),
      rangeQuery('B', `${maxDuration} and on (job) ${lastDuration}`, '{{job}} max duration'),
    ])
    .unit(units.Seconds).min(0).lineInterpolation(common.LineInterpolation.StepAfter)
    .overrideByQuery('B', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);

  const records = new TimeseriesPanel()
    .id(ids()).title('Records processed').datasource(DATASOURCE).span(8).height(8)
    .description('Records handled by each job\'s last run.')
    .withTarget(rangeQuery('A', perJob('batch_job_records_processed'), '{{job}}'))
    .unit(units.Short).min(0).lineInterpolation(common.LineInterpolation.StepAfter);

  const errors = new TimeseriesPanel()
    .id(ids()).title('Errors and retries').datasource(DATASOURCE).span(8).height(8)
    .description('Errors and retries counted in each job\'s last run.')
    .targets([
      rangeQuery('A', perJob('batch_job_errors_total'), '{{job}} errors'),
      rangeQuery('B', perJob('batch_job_retries_total'), '{{job}} retries'),
    ])
    .unit(units.Short).min(0).decimals(0).lineInterpolation(common.LineInterpolation.StepAfter);

  const pushgatewayRow = rowPanel('Pushgateway');
  const up = new StatPanel()
    .id(ids()).title('Pushgateway up').datasource(DATASOURCE).span(4).height(8)
    .description('Pushgateway replicas (scrape targets) that are up; 0 when every one is down or missing (PushgatewayDown).')
    .withTarget(rangeQuery('A', `sum(${own('up')}) or vector(0)`, 'targets up'))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(common.BigValueColorMode.Background).graphMode(common.BigValueGraphMode.None)
    .mappings(valueMappings({ 0: ['down', RED] }))
    .thresholds(steps([RED, null], [GREEN, 1]));

  const rejected = new TimeseriesPanel()
    .id(ids()).title('Rejected pushes').datasource(DATASOURCE).span(8).height(8)
    .description('Pushes the Pushgateway answered with 4xx (malformed, or inconsistent with what it holds): they never '
      + 'reach a group, so only this counter shows them (PushgatewayPushesRejected).')
    .withTarget(rangeQuery('A',
      `sum by (code) (rate(${own('pushgateway_http_requests_total', [matcher('code', '4..', '=~'), matcher('handler', 'push')])}[$__rate_interval])) * 60`,
      'HTTP {{code}}'))
    .unit(units.RequestsPerMinute).min(0);

  const pushAge = new TablePanel()
    .id(ids()).title('Last push age per group').datasource(DATASOURCE).span(6).height(8)
    .description('Time since the last successful push to each Pushgateway group (push_time_seconds); stale groups '
      + 'are what the cleanup CronJob deletes.')
    // A group created by a rejected push has push_time_seconds 0: it has no successful push to age.
    .withTarget(tableQuery('A', `time() - (${perGroup('push_time_seconds')} > 0)`))
    .transformations([organize([], {}, ['Time'])])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Last push age').desc(true)])
    .overrideByName('Value', column('Last push age', [unit(units.DurationSeconds)]));

  const failedPushes = new TablePanel()
    .id(ids()).title('Failed pushes').datasource(DATASOURCE).span(6).height(8)
    .description('Groups whose last push failed (push_failure_time_seconds > push_time_seconds; BatchJobPushFailed fires '
      + 'when the group had an earlier success), with the time of that failure.')
    .withTarget(tableQuery('A', `(${perGroup('push_failure_time_seconds')} > ${perGroup('push_time_seconds')}) * 1000`))
    .transformations([organize([], {}, ['Time'])])
    .noValue('no failed pushes')
    .overrideByName('Value', column('Failed at', [unit(units.DatetimeISO), { id: 'color', value: { mode: 'fixed', fixedColor: RED } }], true));

  const anyGroup = (metric: string) => selector(metric, [matcher('namespace', spec.pushgateway.namespace), matcher('service', spec.pushgateway.name)]);
  const replicas = new TablePanel()
    .id(ids()).title('Replicas').datasource(DATASOURCE).span(24).height(6)
    .description('Each Pushgateway replica (pod): whether Prometheus can scrape it, and how long ago it last accepted a push. '
      + 'Every pusher pushes to every replica, so a replica far behind the others missed pushes (it was down); the alerts take '
      + 'the newest push of each job across replicas (PushgatewayReplicaDown, PushgatewayDown).')
    .targets([
      tableQuery('A', `max by (pod) (${own('up')})`),
      tableQuery('B', `time() - max by (pod) (${anyGroup('push_time_seconds')} > 0)`),
    ])
    .transformations([merge(), organize(['pod', 'A', 'B'], { pod: 'Replica' })])
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('Replica')])
    .overrideByName('Value #A', column('Scraped', [mappings({ 0: ['down', RED], 1: ['up', GREEN] }, 'missing')], true))
    .overrideByName('Value #B', column('Since newest push', [unit(units.DurationSeconds)]));

  return withoutSchemaDrift(new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description('Batch jobs pushing to the Pushgateway: last results, schedule, durations, and the Pushgateway\'s health. '
      + 'Generated by cdk8s-batch-monitoring; edit the code, not this dashboard.')
    .tags(spec.tags)
    .refresh(spec.refresh)
    .time({ from: spec.from, to: 'now' })
    .timezone('utc')
    .readonly()
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(new QueryVariableBuilder('job')
      .label('Job')
      .datasource(DATASOURCE)
      // Every declared job, also one that never reported. The string form: Grafana reads it as well
      // as the editor's object form, and it is plain PromQL-ish text.
      .query(`label_values(${jobSeries(JOB_INFO, gateway)}, job)`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      // A short regex instead of every job name joined, however many jobs there are.
      .allValue('.+')
      .current({ text: 'All', value: '$__all' }))
    .withRow(overviewRow)
    .withPanel(overview)
    .withRow(runsRow)
    .withPanel(successTimeline)
    .withPanel(durations)
    .withPanel(records)
    .withPanel(errors)
    .withRow(pushgatewayRow)
    .withPanel(up)
    .withPanel(rejected)
    .withPanel(pushAge)
    .withPanel(failedPushes)
    .withPanel(replicas)
    .build());
}

/**
 * Drops what the SDK 0.0.21 builders emit but Grafana's schema (@grafana/schema) no longer has:
 * the interval-variable fields `auto`, `auto_count` and `auto_min` on every variable, and the
 * table footer in `options` (Grafana moved it to `fieldConfig.defaults.custom.footer`; these
 * tables show none, so there is nothing to move).
 */
function withoutSchemaDrift(dashboard: Dashboard): Dashboard {
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'interval') continue;
    delete variable.auto;
    delete variable.auto_count;
    delete variable.auto_min;
  }
  const panels = (dashboard.panels ?? []).flatMap((p) => ('panels' in p ? [p, ...p.panels] : [p]));
  for (const panel of panels) {
    if (panel.type === 'table' && 'options' in panel) delete panel.options?.footer;
  }
  return dashboard;
}

function counter(): () => number {
  let next = 1;
  return () => next++;
}

function tableQuery(refId: string, expr: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(DATASOURCE).expr(expr).instant().format(PromQueryFormat.Table);
}

function rangeQuery(refId: string, expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(DATASOURCE).expr(expr).range().legendFormat(legend);
}

function unit(value: string): DynamicConfigValue {
  return { id: 'unit', value };
}

/** Field overrides for one table column: its header, and a coloured background where colour carries meaning. */
function column(displayName: string, properties: DynamicConfigValue[], coloured = false): DynamicConfigValue[] {
  return [
    { id: 'displayName', value: displayName },
    ...properties,
    ...(coloured ? [{ id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } }] : []),
  ];
}

/** Value-to-text mappings with colours, e.g. `{0: ['failed', 'red']}`, optionally with a text for missing values. */
function valueMappings(map: Record<number, [string, string]>, nullText?: string): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  Object.entries(map).forEach(([value, [text, color]], index) => { options[value] = { text, color, index }; });
  const out: ValueMapping[] = [{ type: MappingType.ValueToText, options }];
  if (nullText !== undefined) {
    out.push({ type: MappingType.SpecialValue, options: { match: SpecialValueMatch.Null, result: { text: nullText, index: Object.keys(map).length } } });
  }
  return out;
}

function mappings(map: Record<number, [string, string]>, nullText?: string): DynamicConfigValue {
  return { id: 'mappings', value: valueMappings(map, nullText) };
}

function steps(...s: Array<[string, number | null]>): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(s.map(([color, value]) => ({ color, value })));
}

/** Joins the table queries' frames into one row per job. */
function merge(): DataTransformerConfig {
  return { id: 'merge', options: {} };
}

/** Orders the columns (`A` stands for `Value #A`), renames and hides some. */
function organize(order: string[], rename: Record<string, string>, exclude: string[] = ['Time']): DataTransformerConfig {
  const name = (f: string) => (/^[A-Z]$/.test(f) ? `Value #${f}` : f);
  return {
    id: 'organize',
    options: {
      excludeByName: Object.fromEntries(exclude.map((f) => [f, true])),
      indexByName: Object.fromEntries(order.map((f, i) => [name(f), i])),
      renameByName: rename,
    },
  };
}
