import { assertValidPromQL } from './promql';

/** The datasource every panel and query must use: the dashboard's `datasource` variable. */
const DATASOURCE_UID = '${datasource}';

/** Values for Grafana's built-in variables, chosen so that the PromQL around them stays valid. */
const BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1d',
  __interval_ms: '60000',
  __range_s: '86400',
  __range_ms: '86400000',
};

/**
 * Replaces Grafana template variables (`$x`, `${x}`, `${x:format}`, `[[x]]`) the way Grafana
 * would before sending the query: built-in intervals become durations, anything else a plain
 * word (valid inside a label-matcher string, where dashboard variables belong).
 */
export function substituteVariables(text: string): string {
  const value = (name: string) => BUILTINS[name] ?? 'x';
  return text
    .replace(/\$\{(\w+)(?::[^}]*)?\}/g, (_, name) => value(name))
    .replace(/\[\[(\w+)(?::[^\]]*)?\]\]/g, (_, name) => value(name))
    .replace(/\$(\w+)/g, (_, name) => value(name));
}

/** The PromQL inside a Prometheus variable query, or undefined for a query that holds none (`label_names()`). */
function variablePromQL(query: string): string | undefined {
  const labelValues = /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/s.exec(query.trim());
  if (labelValues) return labelValues[1];
  const queryResult = /^query_result\((.*)\)$/s.exec(query.trim());
  if (queryResult) return queryResult[1];
  const metrics = /^(label_names|metrics|label_values)\(/.exec(query.trim());
  return metrics ? undefined : query;
}

function checkDatasource(ds: any, where: string): void {
  const uid = typeof ds === 'string' ? ds : ds?.uid;
  if (uid !== DATASOURCE_UID && uid !== '$datasource') {
    throw new Error(`${where}: datasource ${JSON.stringify(ds)} is not the \${datasource} variable`);
  }
}

/**
 * Checks one dashboard model: no deprecated `graph` panel, unique panel ids, panels on the
 * 24-column grid without overlap, every panel and query on the `${datasource}` variable, and every
 * query (after template-variable substitution) valid PromQL.
 */
export function checkDashboard(dashboard: any, where: string): void {
  const panels: any[] = [];
  for (const panel of dashboard.panels ?? []) {
    panels.push(panel);
    // Panels of a collapsed row live inside it.
    panels.push(...(panel.panels ?? []));
  }
  const ids = new Set<number>();
  const placed: Array<{ title: string; x: number; y: number; w: number; h: number }> = [];
  for (const panel of panels) {
    const at = `${where} panel ${JSON.stringify(panel.title)}`;
    if (panel.type === 'graph') throw new Error(`${at}: the deprecated "graph" panel; use "timeseries"`);
    if (!Number.isInteger(panel.id) || panel.id <= 0) throw new Error(`${at}: no positive integer id (${panel.id})`);
    if (ids.has(panel.id)) throw new Error(`${at}: duplicate panel id ${panel.id}`);
    ids.add(panel.id);
    const { x, y, w, h } = panel.gridPos ?? {};
    if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) {
      throw new Error(`${at}: gridPos ${JSON.stringify(panel.gridPos)} is not on the 24-column grid`);
    }
    for (const other of placed) {
      if (x < other.x + other.w && other.x < x + w && y < other.y + other.h && other.y < y + h) {
        throw new Error(`${at}: gridPos ${JSON.stringify(panel.gridPos)} overlaps panel ${JSON.stringify(other.title)}`);
      }
    }
    placed.push({ title: panel.title, x, y, w, h });
    checkDatasource(panel.datasource, at);
    const refIds = new Set<string>();
    for (const target of panel.targets ?? []) {
      const t = `${at} query ${target.refId}`;
      if (!target.refId || refIds.has(target.refId)) throw new Error(`${t}: missing or duplicate refId`);
      refIds.add(target.refId);
      checkDatasource(target.datasource, t);
      assertValidPromQL(substituteVariables(String(target.expr ?? '')), t);
    }
    if (panel.type !== 'row' && (panel.targets ?? []).length === 0) throw new Error(`${at}: no queries`);
  }
  for (const variable of dashboard.templating?.list ?? []) {
    const at = `${where} variable ${variable.name}`;
    if (variable.type === 'datasource') {
      if (variable.query !== 'prometheus') throw new Error(`${at}: a datasource variable for ${JSON.stringify(variable.query)}, not prometheus`);
      continue;
    }
    if (variable.type !== 'query') continue;
    checkDatasource(variable.datasource, at);
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const promql = variablePromQL(String(query ?? ''));
    if (promql !== undefined) assertValidPromQL(substituteVariables(promql), at);
  }
  if (!(dashboard.templating?.list ?? []).some((v: any) => v.type === 'datasource' && v.name === 'datasource')) {
    throw new Error(`${where}: no "datasource" variable`);
  }
}

/** Every dashboard in every ConfigMap labelled for Grafana must pass `checkDashboard`. */
export function checkDashboardQueries(objects: any[]): void {
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap' && o.metadata?.labels?.grafana_dashboard !== undefined)) {
    for (const [key, text] of Object.entries<string>(cm.data ?? {})) {
      const where = `ConfigMap ${cm.metadata.namespace}/${cm.metadata.name} ${key}`;
      let dashboard: any;
      try {
        dashboard = JSON.parse(text);
      } catch (e) {
        throw new Error(`${where}: not JSON: ${(e as Error).message}`);
      }
      checkDashboard(dashboard, where);
    }
  }
}
