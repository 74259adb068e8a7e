import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cron, Duration, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BatchMonitoringChart, MonitoredCronJob } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, startPushgateway, startSynthesizedLoop } from '../helpers/processes';
import { synth } from '../helpers/synth';

const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheusBinary = findBinary('prometheus', 'prometheus');
const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');

/**
 * Two wrapped containers of one pod, run as the synthesized manifest runs them (the shipped
 * wrapper, each container's own environment), against a real Pushgateway and a real Prometheus
 * with the synthesized rules: container a exits 1, container b exits 0 two seconds later. The run
 * failed, and BatchJobFailure says which container and how.
 */
describe.skipIf(!pushgatewayBinary || !prometheusBinary)('two wrapped containers, one failing: Pushgateway, Prometheus, alerts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'two-containers-'));
  const chart = new BatchMonitoringChart(Testing.app(), 'two', {
    cleanupEnabled: false,
    registry: { evaluationInterval: Duration.seconds(1) },
    alerts: { forDurations: { failure: Duration.seconds(0) } },
  });
  new MonitoredCronJob(chart, 'Export', {
    monitoring: chart, jobName: 'export', interval: Duration.hours(1), maxDuration: Duration.minutes(10), schedule: Cron.hourly(), wrapCommand: true,
    containers: [
      { name: 'a', image: 'docker.io/library/alpine:3.20', command: ['sh', '-c', 'exit 1'] },
      { name: 'b', image: 'docker.io/library/alpine:3.20', command: ['sh', '-c', 'sleep 2'] },
    ],
  });
  const s = synth(chart);
  const containers: any[] = s.find('CronJob').spec.jobTemplate.spec.template.spec.containers;

  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let prometheus: RunningProcess & { url: string };

  beforeAll(async () => {
    ({ pgw, prometheus } = await startSynthesizedLoop({ pushgateway: pushgatewayBinary!, prometheus: prometheusBinary! }, s, chart.pushgateway.name, dir));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a container's command as its pod would: the wrapper from the manifest, its env, the Pushgateway's URL the test's. */
  function runContainer(container: any) {
    const env = Object.fromEntries((container.env as any[]).map((e) => [e.name, e.value]));
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '/opt/batch-monitoring/push-metrics.sh']);
    return spawnSync('/bin/sh', [wrapper, ...container.command.slice(2)], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, ...env, PUSHGATEWAY_URL: pgw.url },
    });
  }

  test('container a exits 1, b exits 0 two seconds later: BatchJobFailure fires, naming container a and its exit code', async () => {
    const [a, b] = containers;
    expect([a.name, b.name]).toEqual(['a', 'b']);
    expect(a.env).toContainEqual({ name: 'BATCH_JOB_CONTAINER', value: 'a' });
    expect(b.env).toContainEqual({ name: 'BATCH_JOB_CONTAINER', value: 'b' });
    // a fails at once; b's command runs 2 seconds, so its success is pushed after a's failure.
    const ra = runContainer(a);
    const rb = runContainer(b);
    expect(ra.status, ra.stderr).toBe(1);
    expect(rb.status, rb.stderr).toBe(0);

    const deadline = Date.now() + 60_000;
    let failure: any;
    while (Date.now() < deadline && !failure) {
      const body = await (await fetch(`${prometheus.url}/api/v1/alerts`)).json() as any;
      failure = body.data.alerts.find((x: any) => x.labels.alertname === 'BatchJobFailure' && x.state === 'firing');
      if (!failure) await new Promise((r) => setTimeout(r, 250));
    }
    expect(failure, 'BatchJobFailure firing within 60 s').toBeDefined();
    expect(failure.labels).toMatchObject({ job: 'export', namespace: 'monitoring', severity: 'critical' });
    expect(failure.annotations.description).toMatch(/^Batch job export failed\. Container a of its most recent run pushed a failure at .*: exited 1\./);
  }, 120_000);
});
