import { Cron, Duration, Size, Testing, Yaml } from 'cdk8s';
import { Cpu, ImagePullPolicy } from 'cdk8s-plus-27';
import { describe, expect, test } from 'vitest';
import { BatchMonitoringChart, MonitoredCronJob, MonitoredCronJobProps, Pushgateway } from '../lib';
import { readPackageFile } from '../lib/package-file';
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
    const declared = s.all('PrometheusRule').flatMap((r) => r.spec.groups).flatMap((g: any) => g.rules);
    expect(declared.find((r: any) => r.record === 'batch_cronjob:deadline_seconds').labels).toMatchObject({ cronjob: 'daily-backup', namespace: 'monitoring' });
    expect(declared.find((r: any) => r.record === 'batch_job:info' && r.labels.job === 'daily-backup').labels.namespace).toBe('monitoring');
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
    expect(pod.volumes).toContainEqual({ name: 'pushgateway-ca', secret: { secretName: 'pushgateway-tls' } });
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
