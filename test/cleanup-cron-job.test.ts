import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Chart, Cron, Duration, Testing, Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BatchMonitoringChart, CleanupCronJob, CleanupCronJobOptions, MonitoredCronJob, Pushgateway, PushgatewayCaCertificate } from '../lib';
import { synth } from './helpers/synth';

const PROGRAM_DIR = path.join(__dirname, '..', 'lib', 'cleanup');
// The entry point and every module it requires.
const MODULES = fs.readdirSync(PROGRAM_DIR).filter((f) => f.endsWith('.js')).sort();

function cleanupChart(options: CleanupCronJobOptions = {}) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
  const pushgateway = new Pushgateway(chart, 'Pushgateway');
  const cleanup = new CleanupCronJob(chart, 'Cleanup', { ...options, pushgateway });
  return { chart, cleanup };
}

const podSpec = (cronJob: any) => cronJob.spec.jobTemplate.spec.template.spec;
const container = (cronJob: any) => podSpec(cronJob).containers[0];

describe('CleanupCronJob', () => {
  it('defines a restricted daily CronJob running the program from a ConfigMap', async () => {
    const s = synth(cleanupChart().chart);
    // Only the cleanup's objects: the Pushgateway has its own snapshot.
    const own = s.objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'cleanup');
    expect(own.map((o) => o.kind)).toEqual(['ConfigMap', 'CronJob']);
    await expect(Yaml.stringify(...own)).toMatchFileSnapshot('__snapshots__/cleanup-cron-job.k8s.yaml');

    const cronJob = s.find('CronJob', 'pushgateway-cleanup');
    expect(cronJob.metadata.namespace).toBe('monitoring');
    expect(cronJob.spec).toMatchObject({
      schedule: '0 0 * * *',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 1800,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { spec: { activeDeadlineSeconds: 600, backoffLimit: 2 } },
    });
    expect(cronJob.spec.jobTemplate.spec.template.metadata.labels).toMatchObject({
      [Pushgateway.PUSHER_LABEL]: 'true',
      'app.kubernetes.io/name': 'pushgateway-cleanup',
      'app.kubernetes.io/component': 'cleanup',
    });

    const c = container(cronJob);
    expect(c.image).toMatch(/^node:\d+\.\d+\.\d+-alpine$/);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.command).toEqual(['node', '/opt/pushgateway-cleanup/pushgateway-cleanup.js']);
    expect(c.args).toEqual(['--max-age=7d', '--superseded-after=1h', '--concurrency=4', '--timeout=10s', '--push-metrics']);
    // Granted push like any pusher: the URL (each replica's with replicas) comes from the environment.
    expect(c.env).toEqual([{ name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' }]);
    expect(podSpec(cronJob).containers).toHaveLength(1);
    expect(cronJob.spec.jobTemplate.spec.template.metadata.labels[Pushgateway.PUSHER_LABEL]).toBe('true');
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '192Mi' } });
    expect(c.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] },
    });
    expect(podSpec(cronJob).securityContext).toMatchObject({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec(cronJob).automountServiceAccountToken).toBe(false);
    expect(podSpec(cronJob).restartPolicy).toBe('Never');

    // The very same files the command runs, mounted read-only.
    const configMap = s.find('ConfigMap', 'pushgateway-cleanup');
    expect(MODULES).toContain('pushgateway-cleanup.js');
    expect(MODULES.length).toBeGreaterThan(1);
    expect(Object.keys(configMap.data)).toEqual(MODULES);
    for (const file of MODULES) expect(configMap.data[file]).toBe(fs.readFileSync(path.join(PROGRAM_DIR, file), 'utf8'));
    expect(c.volumeMounts).toEqual([{ name: 'program', mountPath: '/opt/pushgateway-cleanup', readOnly: true }]);
    expect(podSpec(cronJob).volumes).toEqual([{ name: 'program', configMap: { name: 'pushgateway-cleanup', defaultMode: 0o444 } }]);
  });

  it('passes exclusions, job filters, dry run and timings as arguments', () => {
    const { chart } = cleanupChart({
      maxAge: Duration.hours(36), excludeJobs: ['keep-me', 'team/etl'], jobs: ['a', 'team/etl2'], dryRun: true, pushMetrics: false,
      concurrency: 2, requestTimeout: Duration.seconds(30), schedule: Cron.schedule({ minute: '30', hour: '*/6' }),
      timeZone: 'Europe/Berlin', startingDeadline: Duration.hours(1), activeDeadline: Duration.minutes(20), backoffLimit: 0,
      successfulJobsRetained: 1, failedJobsRetained: 5,
    });
    const cronJob = synth(chart).find('CronJob');
    expect(container(cronJob).args).toEqual([
      '--max-age=1d12h', '--superseded-after=1h', '--job=a', '--job=team/etl2',
      '--exclude-job=keep-me', '--exclude-job=team/etl', '--concurrency=2', '--timeout=30s', '--dry-run',
    ]);
    expect(cronJob.spec).toMatchObject({
      schedule: '30 */6 * * *', timeZone: 'Europe/Berlin', startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 5,
      jobTemplate: { spec: { activeDeadlineSeconds: 1200, backoffLimit: 0 } },
    });
  });

  it('takes basic-auth credentials from a Secret only', () => {
    const { chart } = cleanupChart({ basicAuth: { secretName: 'pushgateway-auth', passwordKey: 'pass' } });
    const s = synth(chart);
    expect(container(s.find('CronJob')).env).toEqual([
      { name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' },
      { name: 'PUSHGATEWAY_USERNAME', valueFrom: { secretKeyRef: { name: 'pushgateway-auth', key: 'username' } } },
      { name: 'PUSHGATEWAY_PASSWORD', valueFrom: { secretKeyRef: { name: 'pushgateway-auth', key: 'pass' } } },
    ]);
    expect(s.all('Secret')).toEqual([]);
  });

  it.each([
    ['a Secret', PushgatewayCaCertificate.fromSecret('pushgateway-tls'), { secret: { secretName: 'pushgateway-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } }],
    ['a ConfigMap', PushgatewayCaCertificate.fromConfigMap('trust-bundle', 'root.pem'), { configMap: { name: 'trust-bundle', items: [{ key: 'root.pem', path: 'ca.crt' }], defaultMode: 0o444 } }],
  ])('verifies an https Pushgateway with a CA from %s', (_what, caCertificate, source) => {
    const { chart } = cleanupChart({ url: 'https://pushgateway.monitoring.svc:9091', caCertificate });
    const cronJob = synth(chart).find('CronJob');
    expect(container(cronJob).env).toContainEqual({ name: 'PUSHGATEWAY_CA_FILE', value: '/etc/pushgateway-ca/ca.crt' });
    expect(container(cronJob).args).toContain('--url=https://pushgateway.monitoring.svc:9091');
    expect(container(cronJob).volumeMounts).toContainEqual({ name: 'pushgateway-ca', mountPath: '/etc/pushgateway-ca', readOnly: true });
    expect(podSpec(cronJob).volumes).toContainEqual({ name: 'pushgateway-ca', ...source });
  });

  it('follows a secured Pushgateway: https URL, its client Secret and its CA', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
    const pushgateway = new Pushgateway(chart, 'Pushgateway', {
      webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' },
    });
    new CleanupCronJob(chart, 'Cleanup', { pushgateway });
    const cronJob = synth(chart).find('CronJob', 'pushgateway-cleanup');
    const env = container(cronJob).env;
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_URL', value: 'https://pushgateway.monitoring.svc:9091' });
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_USERNAME', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'username' } } });
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_PASSWORD', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'password' } } });
    // The CA key alone, never the TLS Secret's tls.key.
    expect(podSpec(cronJob).volumes).toContainEqual({
      name: 'pushgateway-ca', secret: { secretName: 'pushgateway-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 },
    });
    expect(env).toContainEqual({ name: 'PUSHGATEWAY_CA_FILE', value: '/etc/pushgateway-ca/ca.crt' });
  });

  it('runs from the folder its ConfigMap is mounted at, modules and declared jobs included', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart');
    chart.addJob({ name: 'nightly', interval: Duration.days(1), maxDuration: Duration.hours(1) });
    const cronJob = synth(chart);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanup-mounted-'));
    try {
      for (const [file, text] of Object.entries(cronJob.find('ConfigMap', 'pushgateway-cleanup').data as Record<string, string>)) {
        fs.writeFileSync(path.join(dir, file), text);
      }
      const [node, entry] = container(cronJob.find('CronJob')).command;
      const args = container(cronJob.find('CronJob')).args.map((a: string) => a.replace('/opt/pushgateway-cleanup', dir));
      const result = spawnSync(node === 'node' ? process.execPath : node, [entry.replace('/opt/pushgateway-cleanup', dir), ...args, '--url=http://127.0.0.1:9', '--retries=0', '--json'], { encoding: 'utf8' });
      // Port 9 answers nothing: every module loaded, the declared jobs read, then the read fails.
      expect(result.status, result.stderr).toBe(3);
      expect(JSON.parse(result.stdout).errors[0]).toMatch(/^cannot read the Pushgateway: GET http:\/\/127.0.0.1:9\/metrics: /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds its program both from source and from the compiled package', () => {
    expect(CleanupCronJob.programPath()).toBe(path.join(__dirname, '..', 'lib', 'cleanup', 'pushgateway-cleanup.js'));
  });

  it.each([
    ['a starting deadline of 9s', { startingDeadline: Duration.seconds(9) }, /invalid startingDeadline "9 seconds": use at least 10 seconds, the CronJob controller's check period/],
    ['a zero max age', { maxAge: Duration.seconds(0) }, /invalid maxAge/],
    ['a max age in fractions of a second', { maxAge: Duration.millis(1500) }, /invalid maxAge ".*": use whole seconds/],
    ['a zero superseded-after', { supersededAfter: Duration.seconds(0) }, /invalid supersededAfter/],
    ['a superseded-after in fractions of a second', { supersededAfter: Duration.millis(500) }, /invalid supersededAfter ".*": use whole seconds/],
    ['an invalid name', { name: 'Cleanup' }, /invalid name "Cleanup"/],
    ['a concurrency of 0', { concurrency: 0 }, /invalid concurrency 0: use a whole number from 1 to 64/],
    ['a negative backoff limit', { backoffLimit: -1 }, /invalid backoffLimit -1/],
    ['a job both kept and considered', { jobs: ['a'], excludeJobs: ['a'] }, /invalid jobs "a": a job cannot be both/],
    ['an empty excluded job', { excludeJobs: [''] }, /invalid excludeJobs ""/],
    ['a URL with credentials', { url: 'http://user:pw@pushgateway:9091' }, /invalid url .*without credentials/],
    ['a CA certificate over http', { caCertificate: PushgatewayCaCertificate.fromSecret('tls') }, /invalid caCertificate "Secret\/tls": a CA certificate is only used over https/],
    ['a schedule that never runs', { schedule: Cron.schedule({ minute: '0', hour: '0', day: '31', month: '2,4' }) }, /invalid schedule "0 0 31 2,4 \*": it never runs/],
    ['an image with spaces', { image: 'node 24' }, /invalid image "node 24"/],
  ])('fails for %s', (_what, options, message) => {
    expect(() => cleanupChart(options as CleanupCronJobOptions)).toThrow(message);
  });

  it('takes a starting deadline of 10 seconds, the CronJob controller\'s check period, as MonitoredCronJob does', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { cleanup: { startingDeadline: Duration.seconds(10) } });
    new MonitoredCronJob(chart, 'Backup', {
      monitoring: chart, jobName: 'backup', interval: Duration.days(1), maxDuration: Duration.minutes(5), schedule: Cron.daily(),
      startingDeadline: Duration.seconds(10), containers: [{ image: 'busybox:1.37', command: ['true'] }],
    });
    const s = synth(chart);
    expect(s.all('CronJob').map((cronJob) => cronJob.spec.startingDeadlineSeconds)).toEqual([10, 10]);
  });

  it('names the construct path in its errors', () => {
    expect(() => cleanupChart({ concurrency: 0 })).toThrow(/^test\/Cleanup: invalid concurrency/);
  });
});


describe('BatchMonitoringChart cleanup', () => {
  it('includes the cleanup and registers its job for the alerts', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart');
    const s = synth(chart);
    expect(s.find('CronJob', 'pushgateway-cleanup').metadata.namespace).toBe('monitoring');
    expect(chart.cleanup?.node.path).toBe('chart/Cleanup');
    expect(chart.jobs.map((j) => [j.name, j.interval.toSeconds(), j.maxDuration.toSeconds()])).toEqual([['pushgateway-cleanup', 86_400, 300]]);
  });

  it('passes cleanup options through and registers the expected interval', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart', {
      cleanup: { schedule: Cron.hourly(), maxAge: Duration.days(2), activeDeadline: Duration.minutes(4) },
    });
    expect(container(synth(chart).find('CronJob')).args).toContain('--max-age=2d');
    expect(chart.jobs[0].interval.toMinutes()).toBe(60);
    expect(chart.jobs[0].maxDuration.toSeconds()).toBe(120);
  });

  it('registers the expected interval given for a schedule it cannot read', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart', {
      cleanup: { schedule: Cron.schedule({ minute: '0', hour: '0', weekDay: 'SUN' }), expectedInterval: Duration.days(7), maxAge: Duration.days(14) },
    });
    expect(synth(chart).find('CronJob').spec.schedule).toBe('0 0 * * SUN');
    expect(chart.jobs[0].interval.toDays()).toBe(7);
  });

  it('can leave the cleanup out', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart', { cleanupEnabled: false });
    expect(synth(chart).all('CronJob')).toEqual([]);
    expect(chart.cleanup).toBeUndefined();
    expect(chart.jobs).toEqual([]);
  });

  it('does not register a job that pushes no metrics', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart', { cleanup: { pushMetrics: false } });
    expect(chart.jobs).toEqual([]);
  });

  it('accepts weekly and monthly jobs with the defaults, and tells the program every declared job, also one declared later', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart');
    chart.addJob({ name: 'weekly', interval: Duration.days(7), maxDuration: Duration.hours(1) });
    chart.registry.addJob({ name: 'monthly', interval: Duration.days(31), maxDuration: Duration.hours(1) });
    const s = synth(chart);
    expect(container(s.find('CronJob')).args).toContain('--declared-jobs-file=/opt/pushgateway-cleanup/declared-jobs');
    expect(s.find('ConfigMap', 'pushgateway-cleanup').data['declared-jobs']).toBe('monthly\npushgateway-cleanup\nweekly\n');
  });

  it('passes supersededAfter', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'chart', { cleanup: { supersededAfter: Duration.minutes(15) } });
    expect(container(synth(chart).find('CronJob')).args).toContain('--superseded-after=15m');
  });
});
