import { Duration, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { BatchMonitoringChart } from '../lib';
import { grafanaSchemaErrors } from './helpers/grafana-schema';

function dashboard(): any {
  const chart = new BatchMonitoringChart(Testing.app(), 'schema');
  chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(30) });
  chart.addJob({ name: 'data-processing', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  return JSON.parse(chart.dashboard.dashboardJson());
}

/**
 * The dashboard type-checks against @grafana/schema, the TypeScript types Grafana generates from
 * its CUE schema: the dashboard and its variables, each panel, its plugin's options and its
 * custom field config, with unknown properties rejected.
 */
describe('dashboard against Grafana\'s schema (@grafana/schema)', () => {
  test('the dashboard, its variables, panels, options and field config have only what the schema has', () => {
    const d = dashboard();
    expect(new Set(d.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).map((p: any) => p.type)))
      .toEqual(new Set(['row', 'table', 'state-timeline', 'timeseries', 'stat']));
    expect(grafanaSchemaErrors(d)).toEqual([]);
  });

  test('fails on a dashboard with what the schema does not have: the old interval-variable and table-footer fields, a misspelt option, a wrong type', () => {
    const d = dashboard();
    d.templating.list[0].auto_count = 30;
    const table = d.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).find((p: any) => p.type === 'table');
    table.options.footer = { show: false, reducer: [], countRows: false };
    const timeseries = d.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).find((p: any) => p.type === 'timeseries');
    timeseries.options.legend.displayMod = 'list';
    timeseries.fieldConfig.defaults.custom.lineInterpolation = 'curvy';
    d.refresh = 60;
    expect(grafanaSchemaErrors(d)).toEqual([
      'dashboard (refresh): Type \'number\' is not assignable to type \'string\'.',
      'dashboard (auto_count): Object literal may only specify known properties, and \'"auto_count"\' does not exist in Grafana\'s schema.',
      `table panel "${table.title}" (footer): Object literal may only specify known properties, and '"footer"' does not exist in Grafana's schema.`,
      `timeseries panel "${timeseries.title}" (lineInterpolation): Type '"curvy"' is not assignable to type '"linear" | "smooth" | "stepAfter" | "stepBefore" | undefined'.`,
      `timeseries panel "${timeseries.title}" (displayMod): Object literal may only specify known properties, and '"displayMod"' does not exist in Grafana's schema.`,
    ]);
  });
});
