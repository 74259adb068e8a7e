import { parser } from '@prometheus-io/lezer-promql';

/**
 * Throws when `expr` is not valid PromQL syntax. Lezer never throws itself: it marks syntax errors
 * with error nodes, which this looks for. (It does not type-check; promtool does that in the
 * integration tests.)
 */
export function assertValidPromQL(expr: string, where: string): void {
  if (!expr.trim()) throw new Error(`${where}: empty PromQL expression`);
  const tree = parser.parse(expr);
  const errors: number[] = [];
  tree.iterate({ enter: (node) => { if (node.type.isError) errors.push(node.from); } });
  if (errors.length > 0) {
    const at = errors[0];
    throw new Error(`${where}: invalid PromQL at offset ${at} (…${expr.slice(Math.max(0, at - 20), at + 20)}…) in:\n${expr}`);
  }
}

/** Every rule expression of every PrometheusRule must parse. */
export function checkRuleExpressions(objects: any[]): void {
  for (const rule of objects.filter((o) => o.kind === 'PrometheusRule')) {
    for (const group of rule.spec?.groups ?? []) {
      for (const r of group.rules ?? []) {
        assertValidPromQL(String(r.expr), `PrometheusRule ${rule.metadata.name} group ${group.name} ${r.alert ?? r.record}`);
      }
    }
  }
}
