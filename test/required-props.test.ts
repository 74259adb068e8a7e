import { App, Chart, Cron, Duration, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  BatchJobAlerts, BatchJobsDashboard, BatchMonitoringChart, CleanupCronJob, JobRegistry, KubePrometheusFlavour, MonitoredCronJob,
  Pushgateway, PushgatewayPeer,
} from '../lib';
import { pythonNames } from '../lib/validation';

/**
 * Without a type check (tsx runs an app without one, as do plain JavaScript and a jsii language
 * handing over what it was given), a required prop can be missing or of the wrong type. Each must
 * fail with the library's own message, naming the construct path and the prop, never as
 * "Cannot read properties of undefined (reading 'expressionString')".
 */
const any = (value: unknown) => value as any;

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
}
function monitoring(): BatchMonitoringChart {
  return new BatchMonitoringChart(Testing.app(), 'test', { cleanupEnabled: false });
}
const backup = {
  jobName: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5), schedule: Cron.daily(),
  containers: [{ image: 'alpine:3.20', command: ['true'] }],
};
const job = { name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) };
const without = <T extends object>(value: T, key: keyof T) => Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));

interface Missing {
  readonly name: string;
  readonly build: () => unknown;
  /** How the message starts: `<where>: missing <field>: ` or `<where>: invalid <field> <value>: `. */
  readonly head: string;
  readonly fix: RegExp;
}

const CASES: Missing[] = [
  ...(['jobName', 'maxDuration', 'schedule'] as const).map((key) => ({
    name: `MonitoredCronJob without ${key}`,
    build: () => { const m = monitoring(); new MonitoredCronJob(m, 'Backup', any({ monitoring: m, ...without(backup, key) })); },
    head: `test/Backup: missing \`${key}\` of MonitoredCronJobProps: `,
    fix: key === 'schedule' ? /give a Cron, e\.g\. Cron\.daily\(\)/ : key === 'jobName' ? /give a string/ : /give a Duration, e\.g\. Duration\.hours\(24\)/,
  })),
  { name: 'MonitoredCronJob without props', build: () => new MonitoredCronJob(monitoring(), 'Backup', any(undefined)),
    head: 'test/Backup: missing MonitoredCronJobProps: ', fix: /give MonitoredCronJobProps with at least `jobName`, `maxDuration`, `schedule` \(Python: `job_name` for `jobName`, `max_duration` for `maxDuration`\)$/ },
  { name: 'MonitoredCronJob with a number of seconds for interval', build: () => { const m = monitoring(); new MonitoredCronJob(m, 'Backup', any({ ...backup, monitoring: m, interval: 86400 })); },
    head: 'test/Backup: invalid `interval` of MonitoredCronJobProps 86400: ', fix: /give a Duration/ },
  { name: 'MonitoredCronJob with a string schedule', build: () => { const m = monitoring(); new MonitoredCronJob(m, 'Backup', any({ ...backup, monitoring: m, schedule: '0 0 * * *' })); },
    head: 'test/Backup: invalid `schedule` of MonitoredCronJobProps "0 0 * * *": ', fix: /give a Cron, e\.g\. Cron\.daily\(\)/ },
  { name: 'JobRegistry without props', build: () => new JobRegistry(chart(), 'Jobs', any(undefined)),
    head: 'test/Jobs: missing JobRegistryProps: ', fix: /give JobRegistryProps with at least `pushgateway`/ },
  { name: 'JobRegistry without pushgateway', build: () => new JobRegistry(chart(), 'Jobs', any({})),
    head: 'test/Jobs: missing `pushgateway` of JobRegistryProps: ', fix: /give a Pushgateway, or one deployed elsewhere: Pushgateway\.fromPushgatewayAttributes/ },
  { name: 'BatchJobAlerts without pushgateway', build: () => new BatchJobAlerts(chart(), 'Alerts', any({})),
    head: 'test/Alerts: missing `pushgateway` of BatchJobAlertsProps: ', fix: /give a Pushgateway/ },
  { name: 'BatchJobsDashboard with a string for pushgateway', build: () => new BatchJobsDashboard(chart(), 'Dashboard', any({ pushgateway: 'pushgateway' })),
    head: 'test/Dashboard: invalid `pushgateway` of BatchJobsDashboardProps "pushgateway": ', fix: /give a Pushgateway/ },
  { name: 'CleanupCronJob without pushgateway', build: () => new CleanupCronJob(chart(), 'Cleanup', any({})),
    head: 'test/Cleanup: missing `pushgateway` of CleanupCronJobProps: ', fix: /give a Pushgateway/ },
  ...(['name', 'interval', 'maxDuration'] as const).map((key) => ({
    name: `addJob() without ${key}`,
    build: () => monitoring().addJob(any(without(job, key))),
    head: `test/Jobs: missing \`${key}\` of BatchJob (addJob()): `,
    fix: key === 'name' ? /give a string/ : /give a Duration/,
  })),
  { name: 'addJob() without a job', build: () => monitoring().addJob(any(undefined)),
    head: 'test/Jobs: missing BatchJob (addJob()): ', fix: /give BatchJob \(addJob\(\)\) with at least `name`, `interval`, `maxDuration`/ },
  { name: 'addCronJob() without namespace', build: () => monitoring().registry.addCronJob(any({ name: 'backup', interval: Duration.days(1) })),
    head: 'test/Jobs: missing `namespace` of BatchCronJob (addCronJob()): ', fix: /give a string/ },
  { name: 'Pushgateway.fromPushgatewayAttributes() without namespace', build: () => Pushgateway.fromPushgatewayAttributes(chart(), 'Pushgateway', any({ name: 'pushgateway' })),
    head: 'test/Pushgateway: missing `namespace` of PushgatewayAttributes: ', fix: /give a string/ },
  { name: 'KubePrometheusFlavour.kubePrometheusStack() without options', build: () => KubePrometheusFlavour.kubePrometheusStack(any(undefined)),
    head: 'KubePrometheusFlavour.kubePrometheusStack(): missing KubePrometheusStackOptions: ', fix: /give KubePrometheusStackOptions with at least `release`/ },
  { name: 'KubePrometheusFlavour.kubePrometheusStack() without release', build: () => KubePrometheusFlavour.kubePrometheusStack(any({})),
    head: 'KubePrometheusFlavour.kubePrometheusStack(): missing `release` of KubePrometheusStackOptions: ', fix: /give a string/ },
  { name: 'a web config without secretName', build: () => new Pushgateway(chart(), 'Pushgateway', { webConfig: any({ clientSecretName: 'client' }) }),
    head: 'test/Pushgateway: missing webConfig.secretName: ', fix: /use at most 253 lower-case letters/ },
  { name: 'an Ingress without host', build: () => new Pushgateway(chart(), 'Pushgateway', { ingress: any({ controllerPeers: [PushgatewayPeer.allPodsInNamespace('ingress-nginx')] }) }),
    head: 'test/Pushgateway: missing ingress.host: ', fix: /use a DNS host name/ },
  { name: 'cleanup basic auth without secretName', build: () => new BatchMonitoringChart(Testing.app(), 'test', { cleanup: { basicAuth: any({}) } }),
    head: 'test/Cleanup: missing basicAuth.secretName: ', fix: /use at most 253 lower-case letters/ },
  { name: 'PushgatewayPeer.ipBlock() without cidr', build: () => PushgatewayPeer.ipBlock(any(undefined)),
    head: 'PushgatewayPeer.ipBlock(): missing cidr: ', fix: /use an address range/ },
  { name: 'PushgatewayPeer.allPodsInNamespace() without namespace', build: () => PushgatewayPeer.allPodsInNamespace(any(undefined)),
    head: 'PushgatewayPeer.allPodsInNamespace(): missing namespace: ', fix: /lower-case letters/ },
  { name: 'PushgatewayPeer.podsWithLabels() without labels', build: () => PushgatewayPeer.podsWithLabels(any(undefined)),
    head: 'PushgatewayPeer.podsWithLabels(): missing labels: ', fix: /give the labels as an object/ },
  { name: 'writeGrafanaFiles() without a directory', build: () => monitoring().dashboard.writeGrafanaFiles(any(undefined)),
    head: 'test/Dashboard: missing writeGrafanaFiles() directory: ', fix: /give the folder to write to/ },
];

describe('required props, checked at runtime', () => {
  test.each(CASES)('fails for $name', ({ build, head, fix }) => {
    let message: string | undefined;
    try {
      build();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message, 'the missing prop was accepted').toBeDefined();
    expect(message).not.toMatch(/Cannot read properties|is not a function|Cannot convert/);
    expect(message!.slice(0, head.length)).toBe(head);
    expect(message!.slice(head.length)).toMatch(fix);
  });

  test('a message names the Python name of a prop or method that differs', () => {
    const m = monitoring();
    expect(() => new MonitoredCronJob(m, 'Backup', any({ ...backup, monitoring: m, maxDuration: undefined })))
      .toThrow(/^test\/Backup: missing `maxDuration` of MonitoredCronJobProps: give a Duration, e\.g\. Duration\.hours\(24\) \(Python: `max_duration` for `maxDuration`\)$/);
    expect(() => monitoring().addJob(any({ ...job, name: undefined })))
      .toThrow(/\(Python: `add_job\(\)` for `addJob\(\)`\)$/);
  });

  test('the app still synthesizes when every required prop is there', () => {
    const app = new App({ outdir: '/nonexistent' });
    const m = new BatchMonitoringChart(app, 'test', { cleanupEnabled: false });
    new MonitoredCronJob(m, 'Backup', { monitoring: m, ...backup });
    expect(() => app.synthYaml()).not.toThrow();
  });
});

describe('pythonNames', () => {
  test('gives the snake_case name of each camelCase prop and method, once', () => {
    expect(pythonNames('maxDuration of job: lower maxDuration or call addJob() with grace')).toBe(
      ' (Python: `max_duration` for `maxDuration`, `add_job()` for `addJob()`)');
    expect(pythonNames('use Pushgateway.fromPushgatewayAttributes(...) or KubePrometheusFlavour.kubePrometheusStack()')).toBe(
      ' (Python: `from_pushgateway_attributes()` for `fromPushgatewayAttributes()`, `kube_prometheus_stack()` for `kubePrometheusStack()`)');
  });

  test('leaves alone what has no other Python name: classes, constants, quoted values, lower-case words', () => {
    expect(pythonNames('use ServiceType.CLUSTER_IP, PUSHGATEWAY_URL, Duration.hours(24), "dailyBackup", the namespace')).toBe('');
  });
});
