import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Testing } from 'cdk8s';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { BatchMonitoringChart } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, startPrometheus, startPushgateway } from '../helpers/processes';
import { synth } from '../helpers/synth';

const prometheusBinary = findBinary('prometheus', 'prometheus');
const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');

// A job due within 30 s (20 s interval, 10 s grace) whose alert fires after 20 s pending.
const DEADLINE = 30;
const FOR = 20;

function rulesWith(jobs: string[], queryOffset?: string): object[] {
  const chart = new BatchMonitoringChart(Testing.app(), 'restart', {
    cleanupEnabled: false,
    alerts: { forDurations: { notRunning: Duration.seconds(FOR) } },
    // The declarations are recorded at the test's pace, not every 2 minutes.
    registry: { evaluationInterval: Duration.seconds(1) },
  });
  for (const name of jobs) chart.addJob({ name, interval: Duration.seconds(20), grace: Duration.seconds(10), maxDuration: Duration.seconds(5) });
  return synth(chart).all('PrometheusRule').flatMap((r) => r.spec.groups).map((g: any) => (queryOffset ? { ...g, query_offset: queryOffset } : g));
}

/**
 * Install day on a real Prometheus: the rules load, no job ever pushes. The never-reported job is
 * flagged once its deadline has passed since the rules were first loaded, and a Prometheus restart
 * on the same data directory while the alert is pending neither resets the declaration (which
 * would delay the alert by a whole deadline) nor the pending time.
 */
// Also with every group evaluated in the past, as a Mimir ruler does by default (1m there; here scaled
// to the test's seconds-long deadline, as its intervals are).
describe.skipIf(!prometheusBinary || !pushgatewayBinary).each([
  { offset: undefined, seconds: 0, what: '' },
  { offset: '2s', seconds: 2, what: ', with query_offset on every group' },
])('never-reported jobs on a real Prometheus, across a restart and a reload$what', ({ offset, seconds }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alerts-restart-'));
  let pgw: Awaited<ReturnType<typeof startPushgateway>> | undefined;
  // The Pushgateway is up (scraped as the ServiceMonitor would have it), but nobody pushes.
  const config = (port: number) => ({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [{
      job_name: 'pushgateway',
      honor_labels: true,
      static_configs: [{ targets: [`127.0.0.1:${port}`], labels: { namespace: 'monitoring', service: 'pushgateway', pod: 'pushgateway-0' } }],
    }],
  });
  // Prometheus restores the pending time of an alert (ALERTS_FOR_STATE) only when its `for` is
  // longer than this grace period (default 10m); shorter ones start their `for` again.
  const flags = ['--rules.alert.for-grace-period=1s'];
  let prometheus: RunningProcess & { url: string } | undefined;

  afterAll(async () => {
    await prometheus?.stop();
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<any[]> {
    return ((await (await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as any).data.result;
  }

  async function declared(job: string): Promise<number | undefined> {
    const result = await query(`batch_job:declared_timestamp_seconds{job="${job}"}`);
    return result.length === 1 ? Number(result[0].value[1]) : undefined;
  }

  async function notRunning(): Promise<any | undefined> {
    const body = await (await fetch(`${prometheus!.url}/api/v1/alerts`)).json() as any;
    return body.data.alerts.find((a: any) => a.labels.alertname === 'BatchJobNotRunning' && a.labels.job === 'nightly');
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined && value !== null && value !== false) return value;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${what}: not seen within ${timeoutMs} ms; Prometheus output:\n${prometheus?.output().slice(-3000)}`);
  }

  test('silent before the deadline from the first load, pending after it, firing on time after a restart while pending', async () => {
    pgw = await startPushgateway(pushgatewayBinary!);
    prometheus = await startPrometheus(prometheusBinary!, dir, config(pgw.port), rulesWith(['nightly'], offset), flags);
    const first = await waitFor('the declaration', () => declared('nightly'), 30_000);
    // Before the deadline: nothing, not even pending.
    expect(Date.now() / 1000).toBeLessThan(first + DEADLINE);
    expect(await notRunning()).toBeUndefined();

    const pending = await waitFor('BatchJobNotRunning pending', async () => ((await notRunning())?.state === 'pending' ? await notRunning() : undefined), 60_000);
    expect(Date.parse(pending.activeAt) / 1000).toBeGreaterThanOrEqual(first + DEADLINE);
    expect(pending.annotations.description).toContain('has never reported a successful run since it was declared to Prometheus');

    // Stopped by its PID and started again on the same data directory, late in the pending time.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(pending.activeAt) + (FOR - 6) * 1000 - Date.now())));
    expect((await notRunning())?.state).toBe('pending');
    await prometheus.stop();
    prometheus = await startPrometheus(prometheusBinary!, dir, config(pgw.port), rulesWith(['nightly'], offset), flags);
    const restartedAt = Date.now() / 1000;
    const again = await waitFor('the declaration after the restart', () => declared('nightly'), 30_000);
    expect(again).toBe(first);

    const firing = await waitFor('BatchJobNotRunning firing', async () => ((await notRunning())?.state === 'firing' ? Date.now() / 1000 : undefined), 90_000);
    // Not before its `for` ran out after the deadline counted from the first load; and neither a
    // full deadline after the restart (the declaration reset) nor a full `for` after it (the
    // pending time reset): about 6 s less the downtime after the restart, or at once when the
    // pending time ran out while Prometheus was down (a loaded machine was seen to take 46 s to
    // restart it), where a reset would still wait a whole `for`.
    expect(firing).toBeGreaterThanOrEqual(first + DEADLINE + FOR);
    expect(firing - restartedAt).toBeLessThan(FOR - 4);
  }, 240_000);

  test('a reload that declares another job keeps the first declaration and declares the new job at the reload', async () => {
    const first = await declared('nightly');
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: rulesWith(['nightly', 'weekly'], offset) }));
    process.kill(prometheus!.pid, 'SIGHUP');
    const reloadedAt = Date.now() / 1000;
    const added = await waitFor('the new declaration', () => declared('weekly'), 30_000);
    // Evaluated `seconds` in the past, the declaration is that much older.
    expect(added).toBeGreaterThanOrEqual(reloadedAt - 2 - seconds);
    expect(await declared('nightly')).toBe(first);
  }, 60_000);
});
