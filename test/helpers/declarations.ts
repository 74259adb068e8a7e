/** A constant series that a job registry's recording rule publishes. */
export interface DeclaredSeries {
  readonly record: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const STRING = '"(?:[^"\\\\]|\\\\.)*"';
const LEAF = new RegExp(`^(?:label_replace\\()*vector\\(([^)]+)\\)((?:, ${STRING}, ${STRING}, "", ""\\))*)$`);
const PAIR = new RegExp(`, (${STRING}), (${STRING}), "", ""\\)`, 'g');

/**
 * The series the registry's constant rules (unions of `label_replace(vector(v), ...)`, one per
 * line) publish, with their rule labels, as Prometheus would record them: read from the synthesized
 * PrometheusRules, so that tests can assert on the declarations without evaluating PromQL.
 */
export function declaredSeries(objects: any[]): DeclaredSeries[] {
  const out: DeclaredSeries[] = [];
  for (const rule of objects.filter((o) => o.kind === 'PrometheusRule')) {
    for (const group of rule.spec.groups) {
      for (const r of group.rules.filter((x: any) => x.record)) {
        const leaves = String(r.expr).split('\n').map((line) => LEAF.exec(line.trim())).filter((m): m is RegExpExecArray => m !== null);
        for (const m of leaves) {
          const labels: Record<string, string> = { ...r.labels };
          for (const pair of m[2].matchAll(PAIR)) labels[JSON.parse(pair[1])] = JSON.parse(pair[2]).replace(/\$\$/g, '$');
          out.push({ record: r.record, labels, value: Number(m[1]) });
        }
      }
    }
  }
  return out;
}
