import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cron, Duration, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { BatchMonitoringChart, MonitoredCronJob } from '../lib';
import { BATCH_CONTAINER_LABEL, BATCH_JOB_METRICS, CLEANUP_ENV, CLEANUP_FLAGS, CLEANUP_JOB_NAME, PUSHER_ENV } from '../lib/names';
import { synth } from './helpers/synth';

// The wrapper and the cleanup program cannot import lib/names.ts: this reads them as text and
// holds them to it, so that renaming a name on one side alone fails here.

const LIB = path.join(__dirname, '..', 'lib');
const read = (file: string) => fs.readFileSync(path.join(LIB, file), 'utf8');
const WRAPPER = read('push-wrapper/push-metrics.sh');

/** Every .js file of the cleanup program, however it is split into modules. */
function cleanupSources(dir = path.join(LIB, 'cleanup')): string {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return [cleanupSources(file)];
      return entry.name.endsWith('.js') ? [fs.readFileSync(file, 'utf8')] : [];
    })
    .join('\n');
}
const CLEANUP = cleanupSources();
/** The TypeScript that reads the pushed series (rules, dashboard), without the contract itself. */
const CONSTRUCTS = fs.readdirSync(LIB).filter((f) => f.endsWith('.ts') && f !== 'names.ts').map(read).join('\n');

const found = (text: string, pattern: RegExp) => [...new Set([...text.matchAll(pattern)].map((m) => m[1]))].sort();
const values = (names: Record<string, string>) => [...new Set(Object.values(names))].sort();

const PUSHER_VARIABLE = /\b((?:PUSHGATEWAY|BATCH_JOB)_[A-Z][A-Z0-9_]*)\b/g;
const CLEANUP_VARIABLE = /\b(CLEANUP_[A-Z][A-Z0-9_]*)\b/g;
const QUOTED_FLAG = /['"`](--[a-z][a-z0-9-]*)['"`]/g;
const METRIC = /\b(batch_job_[a-z][a-z0-9_]*)\b/g;

describe('the names contract (lib/names.ts)', () => {
  test('the wrapper reads exactly the pusher environment variables', () => {
    expect(found(WRAPPER, PUSHER_VARIABLE)).toEqual(values(PUSHER_ENV));
  });

  test('the cleanup reads only pusher variables of the contract, and the ones the CleanupCronJob sets', () => {
    const used = found(CLEANUP, PUSHER_VARIABLE);
    expect(values(PUSHER_ENV)).toEqual(expect.arrayContaining(used));
    expect(used).toEqual(expect.arrayContaining([PUSHER_ENV.url, PUSHER_ENV.urls, PUSHER_ENV.username, PUSHER_ENV.password, PUSHER_ENV.caFile]));
  });

  test('the cleanup has exactly the flags and own variables of the contract', () => {
    expect(found(CLEANUP, QUOTED_FLAG)).toEqual(values(CLEANUP_FLAGS));
    expect(found(CLEANUP, CLEANUP_VARIABLE)).toEqual(values(CLEANUP_ENV));
  });

  test('the wrapper and the cleanup push exactly the metrics of the contract; the rules and dashboard read only those', () => {
    expect(found(`${WRAPPER}\n${CLEANUP}`, METRIC)).toEqual(values(BATCH_JOB_METRICS));
    expect(values(BATCH_JOB_METRICS)).toEqual(expect.arrayContaining(found(CONSTRUCTS, METRIC)));
  });

  test('the wrapper groups by the container label of the contract', () => {
    expect(WRAPPER).toContain(`path_label ${BATCH_CONTAINER_LABEL} "$${PUSHER_ENV.container}"`);
  });

  test('the cleanup judges a declared job\'s newest group per the container label the wrapper pushes with', () => {
    expect(CLEANUP).toContain(`'${BATCH_CONTAINER_LABEL}'`);
  });

  test('the cleanup pushes its own metrics as the job the CleanupCronJob declares', () => {
    expect(CLEANUP).toContain(`'${CLEANUP_JOB_NAME}'`);
  });

  test('a name renamed on one side only is caught', () => {
    const renamed = WRAPPER.replace(/PUSHGATEWAY_CA_FILE/g, 'PUSHGATEWAY_CACERT');
    expect(found(renamed, PUSHER_VARIABLE)).not.toEqual(values(PUSHER_ENV));
    const flag = CLEANUP.replace(/'--max-age'/g, "'--older-than'");
    expect(found(flag, QUOTED_FLAG)).not.toEqual(values(CLEANUP_FLAGS));
  });

  test('the constructs set only contract variables and flags, with every option on', () => {
    const chart = new BatchMonitoringChart(Testing.app(), 'test', {
      pushgateway: {
        replicas: 2,
        webConfig: { secretName: 'web', tlsSecretName: 'tls', clientSecretName: 'client' },
      },
      cleanup: { jobs: ['a'], excludeJobs: ['b'], dryRun: true },
    });
    new MonitoredCronJob(chart, 'Backup', {
      monitoring: chart,
      jobName: 'daily-backup',
      interval: Duration.hours(24),
      maxDuration: Duration.minutes(5),
      schedule: Cron.daily(),
      wrapCommand: true,
      containers: [{ name: 'backup', image: 'registry.example.com/backup:1.4.2', command: ['/bin/backup'] }],
    });
    const s = synth(chart);
    const containers = s.all('CronJob').map((cronJob) => cronJob.spec.jobTemplate.spec.template.spec.containers[0]);
    const env = containers.flatMap((c) => (c.env ?? []).map((e: { name: string }) => e.name));
    expect(values(PUSHER_ENV)).toEqual(expect.arrayContaining(env));
    expect(env).toEqual(expect.arrayContaining([PUSHER_ENV.urls, PUSHER_ENV.username, PUSHER_ENV.password, PUSHER_ENV.jobName, PUSHER_ENV.caFile]));
    const cleanup = s.find('CronJob', 'pushgateway-cleanup').spec.jobTemplate.spec.template.spec.containers[0];
    const flags = (cleanup.args as string[]).map((arg) => arg.split('=')[0]);
    expect(values(CLEANUP_FLAGS)).toEqual(expect.arrayContaining(flags));
    // The cleanup is granted push like any pusher: its CA file comes as PUSHGATEWAY_CA_FILE, not --ca-file.
    expect(flags).toEqual(expect.arrayContaining([CLEANUP_FLAGS.job, CLEANUP_FLAGS.excludeJob, CLEANUP_FLAGS.dryRun]));
    expect((cleanup.env as Array<{ name: string }>).map((e) => e.name)).toContain(PUSHER_ENV.caFile);
  });
});
