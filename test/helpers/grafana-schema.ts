import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

// @grafana/schema's types, generated from Grafana's CUE: the dashboard, and each panel plugin's
// Options and FieldConfig (its `fieldConfig.defaults.custom`).
const SCHEMA = path.dirname(require.resolve('@grafana/schema/package.json'));
const TYPES = path.join(SCHEMA, 'dist', 'types', 'raw');
const DASHBOARD_TYPES = path.join(TYPES, 'dashboard', 'x', 'types.gen');
const panelTypes = (panelType: string) => path.join(TYPES, 'composable', panelType.replace(/-/g, ''), 'panelcfg', 'x', 'types.gen');

/**
 * Type-checks a dashboard against Grafana's schema as TypeScript does an object literal: every
 * property must exist in the schema (excess-property checks), with the right type. The dashboard
 * is checked as a `Dashboard` with its panels left out; each panel (also those inside collapsed
 * rows) as a `Panel` whose `options` are its plugin's `Options` and whose
 * `fieldConfig.defaults.custom` its plugin's `FieldConfig`. Returns the compiler's messages, each
 * naming the panel or part it is about.
 */
export function grafanaSchemaErrors(dashboard: any): string[] {
  const panels: any[] = (dashboard.panels ?? []).flatMap((p: any) => [p, ...(p.type === 'row' ? p.panels ?? [] : [])]);
  const pluginTypes = [...new Set(panels.map((p) => p.type).filter((t) => t !== 'row'))];
  const missing = pluginTypes.filter((t) => !fs.existsSync(`${panelTypes(t)}.d.ts`));
  if (missing.length) return missing.map((t) => `panel type "${t}" has no schema in @grafana/schema`);

  const alias = (t: string) => `P_${t.replace(/\W/g, '_')}`;
  const lines = [
    `import type { Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel } from ${JSON.stringify(DASHBOARD_TYPES)};`,
    ...pluginTypes.map((t) => `import type * as ${alias(t)} from ${JSON.stringify(panelTypes(t))};`),
    // JSON holds an enum's value, not the enum: each string enum becomes the union of its values.
    'type Json<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    // Grafana merges a panel's options and custom field config with the plugin's defaults, so
    // their required fields may be left out; unknown ones may not.
    'type Typed<O, C> = Json<Omit<Panel, "options" | "fieldConfig"> & {',
    '  options?: Partial<O>;',
    '  fieldConfig?: Omit<FieldConfigSource, "defaults"> & { defaults: Omit<FieldConfig, "custom"> & { custom?: Partial<C> } };',
    '}>;',
    'type Row = Json<Omit<RowPanel, "panels"> & { panels: unknown[] }>;',
    `export const dashboard: Json<Dashboard> = ${JSON.stringify({ ...dashboard, panels: [] }, null, 1)};`,
  ];
  const where: string[] = ['dashboard'];
  panels.forEach((panel, i) => {
    const name = `${panel.type} panel "${panel.title}"`;
    where.push(name);
    // A plugin without a FieldConfig has no custom field config at all.
    const custom = (t: string) => (/export interface FieldConfig\b/.test(fs.readFileSync(`${panelTypes(t)}.d.ts`, 'utf8')) ? `${alias(t)}.FieldConfig` : 'Record<string, never>');
    const type = panel.type === 'row' ? 'Row' : `Typed<${alias(panel.type)}.Options, ${custom(panel.type)}>`;
    lines.push(`export const panel${i}: ${type} = ${JSON.stringify(panel.type === 'row' ? { ...panel, panels: [] } : panel, null, 1)};`);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-schema-'));
  const file = path.join(dir, 'dashboard.ts');
  try {
    fs.writeFileSync(file, lines.join('\n'));
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      // The first line says what is wrong; the rest spells out the whole expected type.
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0].replace(/ in type '.*'\.$/, ' in Grafana\'s schema.');
      if (!d.file || d.start === undefined) return message;
      const text = d.file.text;
      // Which exported constant the error is in: the dashboard or panel N.
      const before = text.slice(0, d.start);
      const match = [...before.matchAll(/^export const (dashboard|panel(\d+)):/gm)].pop();
      const part = match ? (match[2] === undefined ? 'dashboard' : where[Number(match[2]) + 1]) : 'prelude';
      const property = /^\s*"?([\w$]+)"?\s*:/.exec(text.slice(d.start).split('\n')[0])?.[1];
      return `${part}${property ? ` (${property})` : ''}: ${message}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
