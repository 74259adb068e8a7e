import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';

/** A kube-prometheus flavour's default Alertmanager configuration, as the flavour ships it. */
export interface DefaultAlertmanagerConfig {
  readonly flavour: 'kube-prometheus' | 'kube-prometheus-stack';
  /** The alertmanager.yaml text. */
  readonly config: string;
}

// The reference files stay in the shared folder beside the project (where CI has it too): they
// are upstream's, read where they are, never copied into the project.
const REFERENCE = path.resolve(__dirname, '..', '..', '..', 'shared', 'reference');
const KUBE_PROMETHEUS = path.join(REFERENCE, 'kube-prometheus-v0.18.0', 'alertmanager-secret.yaml');
const KUBE_PROMETHEUS_STACK = path.join(REFERENCE, 'kube-prometheus-stack-88.5.3', 'alertmanager-config.yaml');

/**
 * Both flavours' default configurations: kube-prometheus v0.18.0's Secret
 * (`stringData["alertmanager.yaml"]`) and kube-prometheus-stack 88.5.3's `alertmanager.config`
 * value. Missing locally, the tests that need them are skipped with a loud warning; missing
 * under CI, that is a failure.
 */
export function defaultAlertmanagerConfigs(): DefaultAlertmanagerConfig[] | undefined {
  const missing = [KUBE_PROMETHEUS, KUBE_PROMETHEUS_STACK].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    const message = `${missing.join(', ')} not found: the tests read the flavours' Alertmanager configuration from ../shared beside the project`;
    if (process.env.CI) throw new Error(`${message}; CI must run these tests, not skip them`);
    console.warn(`\n*** SKIPPING Alertmanager tests: ${message} ***\n`);
    return undefined;
  }
  return [
    { flavour: 'kube-prometheus', config: parse(fs.readFileSync(KUBE_PROMETHEUS, 'utf8')).stringData['alertmanager.yaml'] },
    { flavour: 'kube-prometheus-stack', config: stringify(parse(fs.readFileSync(KUBE_PROMETHEUS_STACK, 'utf8')).config) },
  ];
}
