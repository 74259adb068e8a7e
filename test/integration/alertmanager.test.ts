import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cron, Duration, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AlertSeverity, BatchJob, BatchJobAlertSeverities, BatchMonitoringChart, MonitoredCronJob } from '../../lib';
import { CRONJOB_DEADLINE, CRONJOB_LABEL, JOB_INFO, PUSHGATEWAY_LABEL, REGISTRY_LABEL, SEVERITY_LABELS } from '../../lib/job-series';
import { defaultAlertmanagerConfigs } from '../helpers/alertmanager-configs';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, serviceMonitorScrapeConfig, startAlertmanager, startPrometheus, startPushgateway } from '../helpers/processes';
import { declaredSeries } from '../helpers/declarations';
import { synth } from '../helpers/synth';

const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheusBinary = findBinary('prometheus', 'prometheus');
const alertmanagerBinary = findBinary('prometheus-alertmanager', 'prometheus-alertmanager');
const amtoolBinary = findBinary('amtool', 'prometheus-alertmanager');
const flavours = defaultAlertmanagerConfigs();

const NOW = Duration.seconds(0);

/** The job of a team, declared in the team's namespace: its alerts carry that namespace. */
function teamJob(name: string, namespace: string, severities: BatchJobAlertSeverities): BatchJob {
  return { name, namespace, interval: Duration.hours(1), maxDuration: Duration.minutes(10), severities };
}

/** What the flavour's default configuration routes an alert with `labels` to. */
function expectedReceiver(flavour: string, labels: Record<string, string>): string {
  if (flavour === 'kube-prometheus-stack') return 'null';
  return labels.severity === 'critical' ? 'Critical' : 'Default';
}

/**
 * Every label set the chart's alerts can reach Alertmanager with. A rule with a static severity
 * carries it and the Pushgateway's namespace (its series' target label). The job alerts have no
 * static labels: they take theirs from the declarations their expression joins, so they get one
 * label set per declaration: a job's `batch_job:info` record, with `severity` from the rule's own
 * severity label, or a CronJob's `batch_cronjob:deadline_seconds` record.
 */
function alertLabelSets(chart: BatchMonitoringChart): Record<string, string>[] {
  const objects = synth(chart).all('PrometheusRule');
  const rules = objects.flatMap((r) => r.spec.groups).flatMap((g: any) => g.rules);
  const records = (name: string): Record<string, string>[] => declaredSeries(objects).filter((d) => d.record === name).map((d) => d.labels);
  // What the alerts drop: the Pushgateway, the severities of the other alerts and, from a job's info, its registry and CronJob.
  const declarationLabels = (labels: Record<string, string>, severity: string, drop: string[] = []) => Object.fromEntries([
    ...Object.entries(labels).filter(([key]) => ![PUSHGATEWAY_LABEL, ...drop].includes(key) && !Object.values<string>(SEVERITY_LABELS).includes(key)),
    ['severity', severity],
  ]);
  const infoOnly = [REGISTRY_LABEL, CRONJOB_LABEL];
  return rules.filter((r: any) => r.alert).flatMap((rule: any): Record<string, string>[] => {
    // A job alert of a fixed severity: the job's labels, that severity.
    if (rule.labels?.severity && rule.expr.includes(JOB_INFO)) {
      return records(JOB_INFO).map((info) => ({ ...declarationLabels(info, rule.labels.severity, infoOnly), alertname: rule.alert }));
    }
    if (rule.labels?.severity) return [{ namespace: chart.pushgateway.namespace, ...rule.labels, alertname: rule.alert }];
    const severityLabels = Object.values<string>(SEVERITY_LABELS).filter((label) => rule.expr.includes(`"${label}"`));
    if (rule.expr.includes(JOB_INFO) && severityLabels.length === 1) {
      return records(JOB_INFO).map((info) => ({ ...declarationLabels(info, info[severityLabels[0]], infoOnly), alertname: rule.alert }));
    }
    if (rule.expr.includes(CRONJOB_DEADLINE)) {
      return records(CRONJOB_DEADLINE).map((cron) => ({ ...declarationLabels(cron, cron.severity), alertname: rule.alert }));
    }
    throw new Error(`alert ${rule.alert}: neither a static severity nor a declaration its labels come from`);
  });
}

describe.skipIf(!amtoolBinary || !flavours)('Alertmanager routing of every alert (amtool, both flavours\' default configuration)', () => {
  const chart = new BatchMonitoringChart(Testing.app(), 'routing');
  chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(30) });
  // With the defaults of the others, each job alert has every severity (in other namespaces, as the registry requires).
  chart.addJob(teamJob('team-export', 'team-a', { failure: AlertSeverity.WARNING, durationHigh: AlertSeverity.INFO, notRunning: AlertSeverity.WARNING }));
  chart.addJob(teamJob('team-import', 'team-b', { failure: AlertSeverity.INFO, durationHigh: AlertSeverity.CRITICAL, notRunning: AlertSeverity.INFO }));
  new MonitoredCronJob(chart, 'Report', {
    monitoring: chart, jobName: 'report', interval: Duration.hours(24), maxDuration: Duration.minutes(5), schedule: Cron.daily(),
    containers: [{ image: 'report:1', command: ['report'] }],
  });
  chart.registry.addCronJob({ name: 'team-a-sync', namespace: 'team-a', interval: Duration.hours(1), severity: AlertSeverity.CRITICAL, labels: { team: 'a' } });
  chart.registry.addCronJob({ name: 'team-b-sync', namespace: 'team-b', interval: Duration.hours(1), severity: AlertSeverity.INFO });
  const labelSets = alertLabelSets(chart);

  test('the label sets cover every alert, and every severity each job alert can have', () => {
    const severities = (alertname: string) => new Set(labelSets.filter((l) => l.alertname === alertname).map((l) => l.severity));
    for (const alertname of ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning', 'BatchCronJobNoRecentSuccess']) {
      expect(severities(alertname), alertname).toEqual(new Set(['critical', 'warning', 'info']));
    }
    for (const alertname of ['BatchJobPushFailed', 'PushgatewayDown', 'PushgatewayPushesRejected']) expect(severities(alertname).size, alertname).toBe(1);
    // The job alerts carry the job's own namespace and its static labels.
    expect(labelSets).toContainEqual({ alertname: 'BatchJobFailure', job: 'team-import', namespace: 'team-b', severity: 'info' });
    expect(labelSets).toContainEqual({ alertname: 'BatchCronJobNoRecentSuccess', cronjob: 'team-a-sync', namespace: 'team-a', severity: 'critical', team: 'a' });
  });

  test.each(flavours ?? [])('$flavour: each alert reaches the receiver its severity calls for', ({ flavour, config }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amtool-'));
    const configFile = path.join(dir, 'alertmanager.yaml');
    fs.writeFileSync(configFile, config);
    const routed = labelSets.map((labels) => {
      const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      const out = spawnSync(amtoolBinary!, ['config', 'routes', 'test', `--config.file=${configFile}`, ...args], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      return { alert: `${labels.alertname}{${args.filter((a) => !a.startsWith('alertname=')).join(',')}}`, receiver: out.stdout.trim(), expected: expectedReceiver(flavour, labels) };
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(routed.map((r) => `${r.alert} -> ${r.receiver}`)).toEqual(routed.map((r) => `${r.alert} -> ${r.expected}`));
  });
});

/**
 * The real Prometheus evaluates the synthesized rules on what the real Pushgateway holds and sends
 * its alerts to two real Alertmanagers, one per flavour, each loaded with the flavour's default
 * configuration; the test reads `/api/v2/alerts` for which alerts are active, which inhibited, and
 * what a person reads in them.
 */
describe.skipIf(!pushgatewayBinary || !prometheusBinary || !alertmanagerBinary || !flavours)('alerts through Alertmanager: who hears what', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alertmanager-'));
  const chart = new BatchMonitoringChart(Testing.app(), 'alerting', {
    cleanupEnabled: false,
    // The declarations are recorded as often as the alerts are evaluated, not every 2 minutes.
    registry: { evaluationInterval: Duration.seconds(1) },
    alerts: { forDurations: { failure: NOW, durationHigh: NOW, notRunning: NOW, pushFailed: NOW, pushgatewayDown: NOW, pushesRejected: NOW } },
  });
  // Two teams' jobs whose failures differ in severity, and a third whose failure is only info.
  const jobs = {
    warning: teamJob('team-a-export', 'team-a', { failure: AlertSeverity.WARNING }),
    critical: teamJob('team-b-backup', 'team-b', { failure: AlertSeverity.CRITICAL }),
    info: teamJob('team-c-report', 'team-c', { failure: AlertSeverity.INFO }),
  };
  for (const job of Object.values(jobs)) chart.addJob(job);
  const s = synth(chart);
  const container = s.find('Deployment').spec.template.spec.containers[0];
  const args = (container.args as string[]).map((a) => a.replace('=/data/', `=${dir}/`));
  const endpoint = s.find('ServiceMonitor').spec.endpoints[0];
  const rules = s.all('PrometheusRule').flatMap((r) => r.spec.groups);
  // kube-prometheus's own InfoInhibitor (kube-prometheus mixin, general.rules): it fires while an
  // info alert fires in a namespace without a warning or critical one, and silences info there.
  const infoInhibitor = {
    name: 'general.rules',
    rules: [{
      alert: 'InfoInhibitor',
      expr: 'ALERTS{severity = "info"} == 1 unless on (namespace) ALERTS{alertname != "InfoInhibitor", severity =~ "warning|critical", alertstate="firing"} == 1',
      labels: { severity: 'none' },
    }],
  };

  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let prometheus: RunningProcess & { url: string };
  const alertmanagers: { flavour: string; am: RunningProcess & { url: string; port: number } }[] = [];

  async function push(job: string, metrics: Record<string, number>): Promise<void> {
    const body = Object.entries(metrics).map(([name, value]) => `# TYPE ${name} gauge\n${name} ${value}\n`).join('');
    const res = await fetch(`${pgw.url}/metrics/job/${job}`, { method: 'POST', body });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    pgw = await startPushgateway(pushgatewayBinary!, args);
    // Every job has succeeded recently before Prometheus first looks: no alert but the ones a case causes.
    for (const job of Object.values(jobs)) {
      await push(job.name, { batch_job_success: 1, batch_job_duration_seconds: 60, batch_job_last_success_timestamp_seconds: Date.now() / 1000 });
    }
    for (const { flavour, config } of flavours!) {
      alertmanagers.push({ flavour, am: await startAlertmanager(alertmanagerBinary!, path.join(dir, flavour), config) });
    }
    prometheus = await startPrometheus(prometheusBinary!, dir, {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      alerting: { alertmanagers: [{ static_configs: [{ targets: alertmanagers.map(({ am }) => `127.0.0.1:${am.port}`) }] }] },
      scrape_configs: [serviceMonitorScrapeConfig(chart.pushgateway.name, endpoint, pgw.port)],
    }, [...rules, infoInhibitor]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const { am } of alertmanagers) await am.stop();
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function alertmanagerAlerts(url: string): Promise<any[]> {
    return await (await fetch(`${url}/api/v2/alerts`)).json() as any[];
  }

  /** Polls every Alertmanager until `accept` holds for each, and returns their alerts by flavour. */
  async function waitForAlertmanagers(what: string, accept: (alerts: any[]) => boolean, timeoutMs = 30_000): Promise<Map<string, any[]>> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<string, any[]>();
    while (Date.now() < deadline) {
      last = new Map(await Promise.all(alertmanagers.map(async ({ flavour, am }) => [flavour, await alertmanagerAlerts(am.url)] as const)));
      if ([...last.values()].every(accept)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    const states = [...last].map(([f, alerts]) => `${f}: ${JSON.stringify(alerts.map((a) => [a.labels.alertname, a.labels.job, a.status.state]))}`);
    throw new Error(`${what}: not seen within ${timeoutMs} ms; Alertmanager alerts were\n${states.join('\n')}`);
  }

  const find = (alerts: any[], alertname: string, job?: string) => alerts.find((a) => a.labels.alertname === alertname && (job === undefined || a.labels.job === job));

  test('an info job alert alone is inhibited by kube-prometheus\'s InfoInhibitor in its namespace, which is routed to null', async () => {
    await push(jobs.info.name, { batch_job_success: 0, batch_job_duration_seconds: 60 });
    const byFlavour = await waitForAlertmanagers('the info failure and InfoInhibitor',
      (alerts) => !!find(alerts, 'BatchJobFailure', jobs.info.name) && !!find(alerts, 'InfoInhibitor', jobs.info.name)
        && find(alerts, 'BatchJobFailure', jobs.info.name).status.state === 'suppressed');
    for (const [flavour, alerts] of byFlavour) {
      const info = find(alerts, 'BatchJobFailure', jobs.info.name);
      const inhibitor = find(alerts, 'InfoInhibitor', jobs.info.name);
      expect(info.labels.severity, flavour).toBe('info');
      expect(info.labels.namespace, flavour).toBe(jobs.info.namespace);
      expect(info.status.inhibitedBy, flavour).toEqual([inhibitor.fingerprint]);
      expect(inhibitor.labels.namespace, flavour).toBe(info.labels.namespace);
      expect(inhibitor.receivers.map((r: any) => r.name), flavour).toEqual(['null']);
    }
  });

  // The two teams' jobs fail at once; the warning one also ran 630 s, over its 10 m maximum.
  let pushedAt = 0;
  let pushedBy = 0;
  let twoFailures: Promise<Map<string, any[]>> | undefined;
  function failTwoJobs(): Promise<Map<string, any[]>> {
    twoFailures ??= (async () => {
      pushedAt = Date.now() / 1000;
      await push(jobs.warning.name, { batch_job_success: 0, batch_job_duration_seconds: 630 });
      await push(jobs.critical.name, { batch_job_success: 0, batch_job_duration_seconds: 60 });
      pushedBy = Date.now() / 1000;
      return waitForAlertmanagers('both failures and the slow run',
        (alerts) => !!find(alerts, 'BatchJobFailure', jobs.warning.name) && !!find(alerts, 'BatchJobFailure', jobs.critical.name)
          && !!find(alerts, 'BatchJobDurationHigh', jobs.warning.name));
    })();
    return twoFailures;
  }

  test('the notification reads as a person reads it: Prometheus rendered $labels, humanizeTimestamp and humanizeDuration', async () => {
    const alerts = (await failTwoJobs()).get('kube-prometheus')!;
    for (const alert of alerts) {
      for (const text of Object.values(alert.annotations as Record<string, string>)) {
        // No template left over, no missing label, no raw float such as 1.7645e+09.
        expect(text, alert.labels.alertname).not.toMatch(/\{\{|<no value>|\d\.\d+e[+-]?\d+/);
      }
    }
    const failure = find(alerts, 'BatchJobFailure', jobs.critical.name).annotations;
    expect(failure.summary).toContain(jobs.critical.name);
    expect(failure.description).toContain(jobs.critical.name);
    // humanizeTimestamp: the time of the failed push, as a UTC date and time.
    const times = [...failure.description.matchAll(/(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) \+0000 UTC/g)]
      .map(([, date, time]) => Date.parse(`${date}T${time.slice(0, 12)}Z`) / 1000);
    expect(times, failure.description).toHaveLength(1);
    expect(times[0]).toBeGreaterThanOrEqual(Math.floor(pushedAt) - 1);
    expect(times[0]).toBeLessThanOrEqual(pushedBy + 1);
    // humanizeDuration: 630 s as a person says it.
    const slow = find(alerts, 'BatchJobDurationHigh', jobs.warning.name).annotations;
    expect(slow.summary).toContain(jobs.warning.name);
    expect(slow.description).toContain('10m 30s');
  });

  // Each alert carries its job's namespace and declared severity: with one namespace on both, the
  // critical failure would inhibit the warning one.
  test('two jobs failing at once, one warning and one critical: both reach a receiver, neither inhibited', async () => {
    for (const [flavour, alerts] of await failTwoJobs()) {
      for (const job of [jobs.warning, jobs.critical]) {
        const alert = find(alerts, 'BatchJobFailure', job.name);
        const declared = { namespace: job.namespace!, severity: job.severities!.failure! };
        expect({ flavour, job: job.name, namespace: alert.labels.namespace, severity: alert.labels.severity }).toEqual({ flavour, job: job.name, ...declared });
        expect({ flavour, job: job.name, state: alert.status.state, inhibitedBy: alert.status.inhibitedBy, receivers: alert.receivers.map((r: any) => r.name) })
          .toEqual({ flavour, job: job.name, state: 'active', inhibitedBy: [], receivers: [expectedReceiver(flavour, declared)] });
      }
    }
  });

  // The info job's namespace is its own: the critical failure of another team's job does not inhibit it.
  test('an info job alert is delivered, as context, while a warning of another name fires in its namespace', async () => {
    await failTwoJobs();
    // The info job's last run was also too slow: BatchJobDurationHigh, a warning, in its namespace.
    await push(jobs.info.name, { batch_job_success: 0, batch_job_duration_seconds: 900 });
    const byFlavour = await waitForAlertmanagers('the info failure beside a warning',
      (alerts) => !!find(alerts, 'BatchJobDurationHigh', jobs.info.name) && find(alerts, 'BatchJobFailure', jobs.info.name)?.status.state === 'active');
    for (const [flavour, alerts] of byFlavour) {
      const info = find(alerts, 'BatchJobFailure', jobs.info.name);
      expect({ state: info.status.state, inhibitedBy: info.status.inhibitedBy }, flavour).toEqual({ state: 'active', inhibitedBy: [] });
      expect(info.receivers.map((r: any) => r.name), flavour).toEqual([expectedReceiver(flavour, info.labels)]);
      expect(find(alerts, 'InfoInhibitor', jobs.info.name), flavour).toBeUndefined();
    }
  });
});
