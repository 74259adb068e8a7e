import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cron, Duration, Size, Testing, Yaml } from 'cdk8s';
import { Cpu, ImagePullPolicy } from 'cdk8s-plus-27';
import { describe, expect, test } from 'vitest';
import { BatchMonitoringChart, MonitoredCronJob, MonitoredCronJobProps, Pushgateway } from '../lib';
import { readPackageFile } from '../lib/package-file';
import { declaredSeries } from './helpers/declarations';
import { synth } from './helpers/synth';

function backup(chart: BatchMonitoringChart, overrides: Partial<MonitoredCronJobProps> = {}): MonitoredCronJob {
  return new MonitoredCronJob(chart, 'Backup', {
    monitoring: chart,
    jobName: 'daily-backup',
    interval: Duration.hours(24),
    maxDuration: Duration.minutes(5),
    schedule: Cron.daily(),
    containers: [{
      name: 'backup',
      image: 'registry.example.com/backup:1.4.2',
      imagePullPolicy: ImagePullPolicy.IF_NOT_PRESENT,
      command: ['/usr/local/bin/backup', '--all'],
      securityContext: { user: 10001, group: 10001, ensureNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL' as any] } },
      resources: { cpu: { request: Cpu.millis(50), limit: Cpu.millis(500) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) } },
    }],
    ...overrides,
  });
}

describe('MonitoredCronJob', () => {
  test('wrapped: the command runs through the shipped wrapper, with the job environment', async () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    const job = backup(chart, { wrapCommand: true });
    const s = synth(chart);
    const cronJob = s.find('CronJob', 'daily-backup');
    const jobObjects = s.objects.filter((o) => ['daily-backup', 'daily-backup-push-wrapper'].includes(o.metadata.name));
    await expect(Yaml.stringify(...jobObjects)).toMatchFileSnapshot('__snapshots__/monitored-cron-job-wrapped.k8s.yaml');

    expect(cronJob.metadata.name).toBe('daily-backup');
    expect(cronJob.spec.startingDeadlineSeconds).toBe(300);
    const pod = cronJob.spec.jobTemplate.spec.template;
    expect(pod.metadata.labels[Pushgateway.PUSHER_LABEL]).toBe('true');
    const container = pod.spec.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/opt/batch-monitoring/push-metrics.sh', '/usr/local/bin/backup', '--all']);
    expect(container.env).toEqual([
      { name: 'PUSHGATEWAY_URL', value: 'http://pushgateway.monitoring.svc:9091' },
      { name: 'BATCH_JOB_NAME', value: 'daily-backup' },
    ]);
    expect(container.volumeMounts).toEqual([{ name: 'push-wrapper', mountPath: '/opt/batch-monitoring', readOnly: true }]);
    const configMap = s.find('ConfigMap', 'daily-backup-push-wrapper');
    // The very same file the wrapper tests run.
    expect(configMap.data['push-metrics.sh']).toBe(readPackageFile('lib/push-wrapper/push-metrics.sh'));
    expect(pod.spec.volumes).toEqual([{ name: 'push-wrapper', configMap: { name: 'daily-backup-push-wrapper' } }]);
    expect(job.job).toMatchObject({ name: 'daily-backup' });
    // Declared once to the registry: the pushed job, and the CronJob for kube-state-metrics.
    const declared = declaredSeries(s.objects);
    expect(declared.find((d) => d.record === 'batch_cronjob:deadline_seconds')!.labels).toMatchObject({ cronjob: 'daily-backup', namespace: 'monitoring' });
    // Its info names the CronJob, the join to kube-state-metrics' view of its Jobs.
    expect(declared.find((d) => d.record === 'batch_job:info' && d.labels.job === 'daily-backup')!.labels).toMatchObject({ namespace: 'monitoring', cronjob: 'daily-backup' });
    expect(chart.jobs.map((j) => j.name)).toContain('daily-backup');
  });

  test('not wrapped: the command is untouched, the environment still injected, no wrapper shipped', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    backup(chart);
    const s = synth(chart);
    const container = s.find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).toEqual(['/usr/local/bin/backup', '--all']);
    expect(container.env.map((e: any) => e.name)).toEqual(['PUSHGATEWAY_URL', 'BATCH_JOB_NAME']);
    expect(s.all('ConfigMap').filter((c) => c.metadata.name.endsWith('push-wrapper'))).toHaveLength(0);
  });

  test('two or more wrapped containers: each pushes to a group of its own (BATCH_JOB_CONTAINER), one alone does not', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    const job = backup(chart, { wrapCommand: true, containers: [{ name: 'dump', image: 'dump:1', command: ['dump'] }, { name: 'upload', image: 'upload:1', command: ['upload'] }] });
    job.addContainer({ name: 'notify', image: 'notify:1', command: ['notify'] });
    const containers = synth(chart).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers;
    expect(containers.map((c: any) => [c.name, c.env.filter((e: any) => e.name === 'BATCH_JOB_CONTAINER').map((e: any) => e.value)]))
      .toEqual([['dump', ['dump']], ['upload', ['upload']], ['notify', ['notify']]]);

    const single = new BatchMonitoringChart(Testing.app(), 'test');
    backup(single, { wrapCommand: true });
    const unwrapped = new BatchMonitoringChart(Testing.app(), 'test');
    backup(unwrapped, { containers: [{ name: 'dump', image: 'dump:1', command: ['dump'] }, { name: 'upload', image: 'upload:1', command: ['upload'] }] });
    for (const chart of [single, unwrapped]) {
      for (const c of synth(chart).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers) {
        expect(c.env.map((e: any) => e.name)).not.toContain('BATCH_JOB_CONTAINER');
      }
    }
  });

  test('the pod passes Pod Security "restricted" with the default container security context', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    backup(chart, { containers: [{ image: 'alpine:3.20', command: ['true'] }], wrapCommand: true });
    const container = synth(chart).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
  });

  test('with a secured Pushgateway: credentials and CA by Secret reference only', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { webConfig: { secretName: 'pushgateway-web-config', tlsSecretName: 'pushgateway-tls', clientSecretName: 'pushgateway-client' } },
    });
    backup(chart, { wrapCommand: true });
    const s = synth(chart);
    const pod = s.find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].env).toEqual([
      { name: 'PUSHGATEWAY_URL', value: 'https://pushgateway.monitoring.svc:9091' },
      { name: 'BATCH_JOB_NAME', value: 'daily-backup' },
      { name: 'PUSHGATEWAY_USERNAME', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'username' } } },
      { name: 'PUSHGATEWAY_PASSWORD', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'password' } } },
      { name: 'PUSHGATEWAY_CA_FILE', value: '/etc/pushgateway-ca/ca.crt' },
    ]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'pushgateway-ca', mountPath: '/etc/pushgateway-ca', readOnly: true });
    // The CA key alone: the TLS Secret's tls.key would let whoever reads the pod's files impersonate the Pushgateway.
    expect(pod.volumes).toContainEqual({
      name: 'pushgateway-ca', secret: { secretName: 'pushgateway-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 },
    });
    expect(JSON.stringify(s.objects)).not.toContain('tls.key');
  });

  test('with a secured Pushgateway, every container gets the credentials', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: { webConfig: { secretName: 'pushgateway-web-config', clientSecretName: 'pushgateway-client' } },
    });
    backup(chart, { containers: [{ name: 'dump', image: 'dump:1', command: ['dump'] }, { name: 'upload', image: 'upload:1', command: ['upload'] }] });
    const containers = synth(chart).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers;
    for (const c of containers) {
      expect(c.env).toContainEqual({ name: 'PUSHGATEWAY_PASSWORD', valueFrom: { secretKeyRef: { name: 'pushgateway-client', key: 'password' } } });
    }
  });

  test('docs/jobs.md\'s wrapped CronJob, synthesized as written, runs as a numeric non-root user with small requests', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '..', 'docs', 'jobs.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## A CronJob, wrapped'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
    expect(code).toContain('new MonitoredCronJob(');
    // examples/main.ts (what `npm run synth` writes to dist/) runs the very same container.
    const containers = /^\s*(containers: .*)$/m.exec(code)![1];
    expect(fs.readFileSync(path.resolve(__dirname, '..', 'examples', 'main.ts'), 'utf8')).toContain(containers);
    // The snippet is plain JavaScript apart from its imports, which are handed in instead; its
    // `new App()` is a Testing app, which synthesizes into a temp folder.
    const body = code.replace(/^\s*import .*$/gm, '');
    const app = Testing.app();
    function TestApp() { return app; }
    new Function('App', 'Cron', 'Duration', 'BatchMonitoringChart', 'MonitoredCronJob', body)(TestApp, Cron, Duration, BatchMonitoringChart, MonitoredCronJob);
    const s = synth(app.node.findChild('batch-monitoring') as BatchMonitoringChart);
    const cronJob = s.find('CronJob', 'daily-backup');
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    const container = pod.containers[0];
    // The image (alpine) runs as root; the kubelet starts it only with a numeric non-root user.
    const user = container.securityContext.runAsUser ?? pod.securityContext.runAsUser;
    expect(Number.isInteger(user) && user > 0).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true });
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  });

  test('the CronJob, its pods and the wrapper ConfigMap carry the library\'s object labels', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', { pushgateway: { partOf: 'platform' } });
    backup(chart, { wrapCommand: true, metadata: { labels: { team: 'storage' } } });
    const s = synth(chart);
    const labels = { 'app.kubernetes.io/name': 'daily-backup', 'app.kubernetes.io/component': 'batch-job', 'app.kubernetes.io/part-of': 'platform' };
    const cronJob = s.find('CronJob', 'daily-backup');
    expect(cronJob.metadata.labels).toEqual({ ...labels, team: 'storage' });
    expect(cronJob.spec.jobTemplate.spec.template.metadata.labels).toMatchObject(labels);
    expect(s.find('ConfigMap', 'daily-backup-push-wrapper').metadata.labels).toEqual(labels);
  });

  test('in a namespace of its own, the wrapper ConfigMap is where the pods can mount it', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    backup(chart, { wrapCommand: true, metadata: { namespace: 'team-a' } });
    const s = synth(chart);
    expect(s.find('CronJob', 'daily-backup').metadata.namespace).toBe('team-a');
    expect(s.find('ConfigMap', 'daily-backup-push-wrapper').metadata.namespace).toBe('team-a');
  });

  test('the pod defaults give way to what the job sets', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    backup(chart, { securityContext: { user: 2000, group: 3000 } });
    const pod = synth(chart).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 3000, runAsNonRoot: true });
    // backup() sets its own user, pull policy and resources on the container.
    expect(pod.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      securityContext: { runAsUser: 10001, runAsGroup: 10001 },
    });
    const other = new BatchMonitoringChart(Testing.app(), 'test');
    backup(other, { containers: [{ image: 'backup:1', command: ['backup'], imagePullPolicy: ImagePullPolicy.ALWAYS, resources: { memory: { request: Size.gibibytes(1) } } }] });
    const container = synth(other).find('CronJob', 'daily-backup').spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.resources).toEqual({ requests: { memory: '1024Mi' } });
  });

  test('without an interval, the job expects a success as often as Kubernetes runs the schedule, in its time zone', () => {
    const weekly = backup(new BatchMonitoringChart(Testing.app(), 'test'), { interval: undefined, schedule: Cron.schedule({ minute: '0', hour: '3', weekDay: 'MON' }) });
    expect(weekly.job.interval.toHours()).toBe(7 * 24);
    // Kubernetes skips 02:30 on the day Berlin's clocks jump from 02:00 to 03:00.
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    const berlin = backup(chart, { interval: undefined, schedule: Cron.schedule({ minute: '30', hour: '2' }), timeZone: 'Europe/Berlin' });
    expect(berlin.job.interval.toHours()).toBe(47);
    expect(berlin.job.deadline.toHours()).toBe(49);
    expect(synth(chart).find('CronJob', 'daily-backup').spec.timeZone).toBe('Europe/Berlin');
  });

  test('fails when the job is set to run as root (an image that needs root)', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    expect(() => backup(chart, { containers: [{ name: 'backup', image: 'alpine:3.20', command: ['true'], securityContext: { user: 0 } }] }))
      .toThrow(/^test\/Backup: invalid container "backup" securityContext.user 0: run as a non-root numeric user \(the default is 65534, nobody\): Pod Security "restricted"/);
    expect(() => backup(new BatchMonitoringChart(Testing.app(), 'test'), { securityContext: { user: 0 } }))
      .toThrow(/^test\/Backup: invalid securityContext.user 0: run as a non-root numeric user/);
    expect(() => backup(new BatchMonitoringChart(Testing.app(), 'test'), { containers: [{ name: 'backup', image: 'alpine:3.20', command: ['true'], securityContext: { ensureNonRoot: false } }] }))
      .toThrow(/^test\/Backup: invalid container "backup" securityContext.ensureNonRoot false: remove it: Pod Security "restricted" requires runAsNonRoot/);
  });

  test('fails when a wrapped container has no explicit command', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    expect(() => backup(chart, { wrapCommand: true, containers: [{ name: 'backup', image: 'backup:1' }] }))
      .toThrow(/test\/Backup: invalid container "backup" command null: give the container an explicit `command`/);
  });

  test('fails when the job is declared twice', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    chart.addJob({ name: 'daily-backup', interval: Duration.hours(24), maxDuration: Duration.minutes(5) });
    expect(() => backup(chart)).toThrow(/invalid job name "daily-backup": each job is declared once/);
  });

  test('fails with a job name longer than a CronJob name may be', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test');
    expect(() => backup(chart, { jobName: 'a'.repeat(53) })).toThrow(/invalid jobName "a{53}": use at most 52 characters/);
  });
});
