import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BatchMonitoringChart } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, startPushgateway, startSynthesizedLoop } from '../helpers/processes';
import { synth } from '../helpers/synth';

const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheusBinary = findBinary('prometheus', 'prometheus');
const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');
const program = path.resolve(__dirname, '..', '..', 'lib', 'cleanup', 'pushgateway-cleanup.js');

const NOW = Duration.seconds(0);

/**
 * The whole loop with real parts: a job pushes through the synthesized wrapper to the real
 * Pushgateway started with the synthesized args, the real Prometheus scrapes it as the synthesized
 * ServiceMonitor says (honor_labels, path) and evaluates the synthesized rules, and alerts fire
 * and clear, and the cleanup program reclaims a stale group. Only the `for` durations are
 * shortened, through the constructs' own props.
 */
describe.skipIf(!pushgatewayBinary || !prometheusBinary)('end to end: job, Pushgateway, Prometheus, alerts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-'));
  const chart = new BatchMonitoringChart(Testing.app(), 'e2e', {
    cleanupEnabled: false,
    registry: { evaluationInterval: Duration.seconds(1) },
    alerts: { forDurations: { failure: NOW, durationHigh: NOW, notRunning: NOW, pushFailed: NOW, pushgatewayDown: NOW, pushesRejected: NOW } },
  });
  chart.addJob({ name: 'e2e-backup', interval: Duration.hours(1), maxDuration: Duration.minutes(10) });
  const s = synth(chart);
  const seen: string[] = [];

  let args: string[];
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let prometheus: RunningProcess & { url: string };

  beforeAll(async () => {
    ({ args, pgw, prometheus } = await startSynthesizedLoop({ pushgateway: pushgatewayBinary!, prometheus: prometheusBinary! }, s, chart.pushgateway.name, dir));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function alerts(): Promise<any[]> {
    const body = await (await fetch(`${prometheus.url}/api/v1/alerts`)).json() as any;
    return body.data.alerts;
  }

  /** Polls the alerts until `accept` holds, recording each state seen, for the report. */
  async function waitForAlerts(what: string, accept: (all: any[]) => boolean, timeoutMs = 30_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    let last: any[] = [];
    while (Date.now() < deadline) {
      last = await alerts();
      if (accept(last)) {
        seen.push(`${what}: ${last.map((a) => `${a.labels.alertname}{job=${a.labels.job}} ${a.state}`).sort().join(', ') || 'none'}`);
        return last;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what}: not seen within ${timeoutMs} ms; alerts were ${JSON.stringify(last.map((a) => [a.labels, a.state]))}`);
  }

  function runJob(command: string[]) {
    return spawnSync('/bin/sh', [wrapper, ...command], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, PUSHGATEWAY_URL: pgw.url, BATCH_JOB_NAME: 'e2e-backup' },
    });
  }

  const active = (all: any[], name: string) => all.filter((a) => a.labels.alertname === name && ['pending', 'firing'].includes(a.state));

  test('a job that never reported is declared, and not flagged before its deadline; the scraped Pushgateway is not down', async () => {
    const query = async (q: string) => ((await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as any).data.result;
    await waitUntil('the job is declared to Prometheus', async () => (await query('batch_job:declared_timestamp_seconds{job="e2e-backup"}')).length === 1);
    const all = await waitForAlerts('before any push', (a) => active(a, 'PushgatewayDown').length === 0);
    expect(active(all, 'BatchJobNotRunning')).toEqual([]);
  });

  test('a failed run fires BatchJobFailure with the pushed job label, not exported_job', async () => {
    expect(runJob(['sh', '-c', 'exit 3']).status).toBe(3);
    const all = await waitForAlerts('after a failed run', (a) => active(a, 'BatchJobFailure').length === 1);
    const failure = active(all, 'BatchJobFailure')[0];
    expect(failure.labels.job).toBe('e2e-backup');
    expect(failure.labels).not.toHaveProperty('exported_job');
    expect(failure.annotations.summary).toBeTruthy();
  });

  test('a successful run clears BatchJobFailure and BatchJobNotRunning', async () => {
    expect(runJob(['true']).status).toBe(0);
    await waitForAlerts('after a successful run', (a) => active(a, 'BatchJobFailure').length === 0 && active(a, 'BatchJobNotRunning').length === 0);
  });

  test('the Pushgateway stops: PushgatewayDown follows', async () => {
    await pgw.stop();
    const all = await waitForAlerts('after the Pushgateway stopped', (a) => active(a, 'PushgatewayDown').length === 1);
    expect(active(all, 'PushgatewayDown')[0].labels).toMatchObject({ job: 'pushgateway', namespace: 'monitoring' });
    // The job's last values are still held through the scrape gap: no false BatchJobFailure.
    expect(active(all, 'BatchJobFailure')).toEqual([]);
  });

  test('back up with its persisted data; the cleanup program deletes a stale group, whose series goes stale in Prometheus', async () => {
    // Same port, so that the scrape target Prometheus knows comes back.
    pgw = await startPushgateway(pushgatewayBinary!, args, pgw.port);
    await waitForAlerts('after the Pushgateway came back', (a) => active(a, 'PushgatewayDown').length === 0);
    const push = await fetch(`${pgw.url}/metrics/job/e2e-retired/job_id/run-17`, {
      method: 'POST', body: '# TYPE batch_job_success gauge\nbatch_job_success 1\n',
    });
    expect(push.status).toBe(200);
    const query = async (q: string) => ((await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as any).data.result;
    const retired = 'batch_job_success{job="e2e-retired"}';
    await waitUntil('the retired group is scraped', async () => (await query(retired)).length === 1);

    // The program ages groups by the Pushgateway's clock, whose Date header has whole seconds.
    await new Promise((r) => setTimeout(r, 3_500));
    const cleanup = spawnSync('node', [program, '--url', pgw.url, '--max-age', '2s', '--job', 'e2e-retired'], { encoding: 'utf8' });
    expect(cleanup.status, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/^deleted \{job="e2e-retired",job_id="run-17"\}/m);
    // The Pushgateway no longer exposes the group, so the next scrape marks its series stale.
    await waitUntil('the retired series is stale', async () => (await query(retired)).length === 0);
    expect(await query('batch_job_success{job="e2e-backup"}')).toHaveLength(1);
    seen.push('after the cleanup: batch_job_success{job="e2e-retired"} gone from Prometheus, e2e-backup kept');
    console.log(`alert states seen, in order:\n  ${seen.join('\n  ')}`);
  });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
