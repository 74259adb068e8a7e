import { App, Chart, Testing, Yaml } from 'cdk8s';
import { checkDashboardQueries } from './dashboards';
import { checkPodSecurityRestricted } from './pod-security';
import { checkRuleExpressions } from './promql';
import { validateAgainstSchemas } from './schemas';

/** A synthesized chart: its objects and the YAML a reviewer would read. */
export interface Synthesized {
  readonly objects: any[];
  readonly yaml: string;
  /** The one object of `kind` (named `name`, if given); throws when there is not exactly one. */
  find(kind: string, name?: string): any;
  all(kind: string): any[];
}

/**
 * Synthesizes a chart the way every test must: runs the construct validations, then checks every
 * object with the shared manifest checks (schemas, PromQL syntax, Pod Security "restricted"). Tests never call Testing.synth directly,
 * so nothing the library emits escapes these checks.
 */
export function synth(chart: Chart): Synthesized {
  const objects = Testing.synth(chart);
  checkManifests(objects);
  return wrap(objects, Yaml.stringify(...objects));
}

/** Synthesizes every chart of an app, with the same checks. */
export function synthApp(app: App): Synthesized {
  const yaml = app.synthYaml();
  const objects = app.charts.flatMap((c) => c.toJson());
  checkManifests(objects);
  return wrap(objects, yaml);
}

/** The checks applied to every synthesized manifest. */
export function checkManifests(objects: any[]): void {
  validateAgainstSchemas(objects);
  checkRuleExpressions(objects);
  checkPodSecurityRestricted(objects);
  checkDashboardQueries(objects);
}

function wrap(objects: any[], yaml: string): Synthesized {
  const all = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    objects,
    yaml,
    all,
    find(kind: string, name?: string) {
      const found = all(kind).filter((o) => name === undefined || o.metadata?.name === name);
      if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
      return found[0];
    },
  };
}
