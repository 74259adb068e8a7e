import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BatchMonitoringChart } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { RunningProcess, startPrometheus, startPushgateway } from '../helpers/processes';
import { synth } from '../helpers/synth';

const pushgatewayBinary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const prometheusBinary = findBinary('prometheus', 'prometheus');

const NOW = Duration.seconds(0);
const JOB = 'e2e-ha-backup';
const JOB_ALERTS = ['BatchJobFailure', 'BatchJobDurationHigh', 'BatchJobNotRunning'];
// Bounds for what Prometheus does every second (scrape, evaluate): generous for a loaded 2-core machine.
const WAIT_MS = 60_000;
const STEP_MS = 150_000;

type Pushgateway = RunningProcess & { url: string; port: number };

/** One Pushgateway replica: its pod name (a target label), its own persistence file folder, its process. */
interface Replica {
  readonly pod: string;
  readonly dir: string;
  gateway: Pushgateway;
}

/**
 * Issue 12's end to end on real parts: two real Pushgateways, each with its own persistence file,
 * scraped by a real Prometheus as the synthesized ServiceMonitor says (one target per replica,
 * each with its own `pod` and `instance`), evaluating the synthesized rules of a chart with
 * `replicas: 2`. Replicas are stopped by PID with SIGTERM (so they write their persistence file)
 * and restarted on the same file and port. Only the `for` durations are shortened, through the
 * chart's own props.
 */
describe.skipIf(!pushgatewayBinary || !prometheusBinary)('end to end with two Pushgateway replicas: newest push wins, PushgatewayDown only when none is up', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-ha-'));
  const chart = new BatchMonitoringChart(Testing.app(), 'e2e-ha', {
    cleanupEnabled: false,
    pushgateway: { replicas: 2 },
    registry: { evaluationInterval: Duration.seconds(1) },
    alerts: {
      forDurations: {
        failure: NOW, durationHigh: NOW, notRunning: NOW, pushFailed: NOW, pushgatewayDown: NOW, pushesRejected: NOW, pushgatewayReplicaDown: NOW,
      },
    },
  });
  chart.addJob({ name: JOB, interval: Duration.hours(1), maxDuration: Duration.minutes(5) });
  const s = synth(chart);
  const container = s.find('StatefulSet').spec.template.spec.containers[0];
  const endpoint = s.find('ServiceMonitor').spec.endpoints[0];
  const rules = s.all('PrometheusRule').flatMap((r) => r.spec.groups);
  const { name: service, namespace } = chart.pushgateway;
  const replicas: Replica[] = [0, 1].map((i) => ({ pod: `${service}-${i}`, dir: fs.mkdtempSync(path.join(dir, `replica-${i}-`)), gateway: undefined! }));
  const [a, b] = replicas;
  const seen: string[] = [];
  let prometheus: RunningProcess & { url: string };

  /** Each replica runs the synthesized args with its own persistence file (its own volume in the cluster). */
  const argsOf = (replica: Replica) => (container.args as string[]).map((arg) => arg.replace('=/data/', `=${replica.dir}/`));
  const start = async (replica: Replica, port?: number) => {
    replica.gateway = await startPushgateway(pushgatewayBinary!, argsOf(replica), port);
  };

  beforeAll(async () => {
    expect(chart.pushgateway.replicas).toBe(2);
    expect(argsOf(a).some((arg) => arg.startsWith(`--persistence.file=${a.dir}/`))).toBe(true);
    await start(a);
    await start(b);
    prometheus = await startPrometheus(prometheusBinary!, dir, {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{
        // What prometheus-operator generates from the ServiceMonitor: the job is the Service name,
        // and each replica is a target with its own pod and instance.
        job_name: service,
        honor_labels: endpoint.honorLabels,
        metrics_path: endpoint.path,
        static_configs: replicas.map((replica) => ({
          targets: [`127.0.0.1:${replica.gateway.port}`],
          labels: { namespace, service, endpoint: endpoint.port, pod: replica.pod, container: container.name },
        })),
      }],
    }, rules);
  }, STEP_MS);

  afterAll(async () => {
    await prometheus?.stop();
    for (const replica of replicas) await replica.gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, STEP_MS);

  async function api(pathAndQuery: string): Promise<any> {
    const body = await (await fetch(`${prometheus.url}${pathAndQuery}`)).json() as any;
    if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${JSON.stringify(body)}`);
    return body.data;
  }
  const query = async (q: string): Promise<any[]> => (await api(`/api/v1/query?query=${encodeURIComponent(q)}`)).result;
  const alerts = async (): Promise<any[]> => (await api('/api/v1/alerts')).alerts;
  const active = (all: any[], name: string) => all.filter((alert) => alert.labels.alertname === name && ['pending', 'firing'].includes(alert.state));
  const firing = (all: any[], name: string) => all.filter((alert) => alert.labels.alertname === name && alert.state === 'firing');
  const jobAlerts = (all: any[]) => JOB_ALERTS.flatMap((name) => active(all, name));
  const describeAlerts = (all: any[]) => all.map((alert) => `${alert.labels.alertname}{job=${alert.labels.job}} ${alert.state}`).sort().join(', ') || 'none';

  /** Polls the alerts until `accept` holds; records the state seen, for the report. */
  async function waitForAlerts(what: string, accept: (all: any[]) => boolean): Promise<any[]> {
    const deadline = Date.now() + WAIT_MS;
    let last: any[] = [];
    while (Date.now() < deadline) {
      last = await alerts();
      if (accept(last)) {
        seen.push(`${what}: ${describeAlerts(last)}`);
        return last;
      }
      await sleep(250);
    }
    throw new Error(`${what}: not seen within ${WAIT_MS} ms; alerts were ${describeAlerts(last)}`);
  }

  /**
   * The alerts seen at each of the next `rounds` evaluations of the alerting rule groups (a round
   * ends when each has been evaluated again since the previous one), so that a test can say what
   * never happened in that time rather than at one instant.
   */
  async function alertsOverEvaluations(rounds: number): Promise<any[][]> {
    const snapshots: any[][] = [];
    for (let round = 0; round < rounds; round++) {
      const since = Date.now();
      const deadline = since + WAIT_MS;
      for (;;) {
        const groups = ((await api('/api/v1/rules?type=alert')).groups as any[]).filter((group) => group.rules.length > 0);
        if (groups.every((group) => Date.parse(group.lastEvaluation.replace(/(\.\d{3})\d+/, '$1')) > since)) break;
        if (Date.now() > deadline) throw new Error(`rule groups not evaluated within ${WAIT_MS} ms: ${JSON.stringify(groups.map((g) => [g.name, g.lastEvaluation]))}`);
        await sleep(250);
      }
      snapshots.push(await alerts());
    }
    return snapshots;
  }

  async function waitForQuery(what: string, q: string, accept: (result: any[]) => boolean): Promise<any[]> {
    const deadline = Date.now() + WAIT_MS;
    let last: any[] = [];
    while (Date.now() < deadline) {
      last = await query(q);
      if (accept(last)) return last;
      await sleep(250);
    }
    throw new Error(`${what}: not within ${WAIT_MS} ms; ${q} returned ${JSON.stringify(last)}`);
  }

  /** A run's result POSTed as the push wrapper does (POST keeps the last success time of an earlier run). */
  async function push(replica: Replica, success: boolean): Promise<void> {
    const end = Date.now();
    const body = [
      '# TYPE batch_job_success gauge', `batch_job_success ${success ? 1 : 0}`,
      '# TYPE batch_job_duration_seconds gauge', 'batch_job_duration_seconds 2',
      ...(success ? ['# TYPE batch_job_last_success_timestamp_seconds gauge', `batch_job_last_success_timestamp_seconds ${Math.floor(end / 1000)}`] : []),
      '',
    ].join('\n');
    const response = await fetch(`${replica.gateway.url}/metrics/job/${JOB}`, { method: 'POST', body });
    expect(response.status, await response.text()).toBe(200);
  }

  /** The `push_time_seconds` of the job's group on each replica, as Prometheus has scraped it. */
  async function pushTimes(): Promise<Record<string, number>> {
    const result = await query(`push_time_seconds{job=${JSON.stringify(JOB)}}`);
    return Object.fromEntries(result.map((r) => [r.metric.pod, Number(r.value[1])]));
  }

  test('1. a successful run pushed to both replicas: no job alert, no Pushgateway alert', async () => {
    await push(a, true);
    await push(b, true);
    await waitForQuery('both replicas\' success is scraped', `batch_job_success{job="${JOB}"} == 1`, (r) => r.length === 2);
    await waitForQuery('the rules see the success', `batch_job:last_run_success{job="${JOB}"} == 1`, (r) => r.length === 1);
    for (const all of await alertsOverEvaluations(3)) {
      expect(jobAlerts(all), describeAlerts(all)).toEqual([]);
      expect(active(all, 'PushgatewayDown'), describeAlerts(all)).toEqual([]);
      expect(active(all, 'PushgatewayReplicaDown'), describeAlerts(all)).toEqual([]);
    }
    seen.push('after a success on both replicas, 3 evaluations: no job or Pushgateway alert');
  }, STEP_MS);

  test('2. replica A stopped, a failed run pushed to B only: BatchJobFailure and PushgatewayReplicaDown fire, PushgatewayDown does not', async () => {
    await a.gateway.stop('SIGTERM');
    await push(b, false);
    const all = await waitForAlerts('A stopped, failure pushed to B',
      (x) => firing(x, 'BatchJobFailure').length === 1 && firing(x, 'PushgatewayReplicaDown').length === 1);
    expect(firing(all, 'BatchJobFailure')[0].labels).toMatchObject({ job: JOB, namespace });
    expect(firing(all, 'PushgatewayReplicaDown')[0].labels).toMatchObject({ job: service, namespace, severity: 'warning' });
    for (const later of [all, ...await alertsOverEvaluations(3)]) {
      expect(active(later, 'PushgatewayDown'), describeAlerts(later)).toEqual([]);
      expect(firing(later, 'BatchJobFailure'), describeAlerts(later)).toHaveLength(1);
    }
    seen.push('and 3 more evaluations: no PushgatewayDown, BatchJobFailure still firing');
  }, STEP_MS);

  test('3. A restarted on its persistence file with its older success: BatchJobFailure stays, PushgatewayReplicaDown resolves', async () => {
    const failedAt = (await pushTimes())[b.pod];
    await start(a, a.gateway.port);
    // A is back with the success it persisted on SIGTERM, older than B's failure.
    await waitForQuery('A\'s persisted success is scraped again',
      `batch_job_success{job="${JOB}",pod="${a.pod}"} == 1 and on (pod) up{job="${service}",pod="${a.pod}"} == 1`, (r) => r.length === 1);
    const times = await pushTimes();
    expect(times[a.pod]).toBeLessThan(failedAt);
    expect(times[b.pod]).toBe(failedAt);
    await waitForAlerts('A back with its older success', (x) => active(x, 'PushgatewayReplicaDown').length === 0);
    for (const all of await alertsOverEvaluations(3)) {
      expect(firing(all, 'BatchJobFailure'), describeAlerts(all)).toHaveLength(1);
      expect(active(all, 'PushgatewayReplicaDown'), describeAlerts(all)).toEqual([]);
      expect(active(all, 'PushgatewayDown'), describeAlerts(all)).toEqual([]);
    }
    seen.push('and 3 more evaluations: BatchJobFailure still firing');
  }, STEP_MS);

  test('4. a later successful run pushed to both replicas clears BatchJobFailure', async () => {
    await push(a, true);
    await push(b, true);
    await waitForAlerts('a later success on both', (x) => jobAlerts(x).length === 0);
    for (const all of await alertsOverEvaluations(3)) {
      expect(jobAlerts(all), describeAlerts(all)).toEqual([]);
    }
    seen.push('and 3 more evaluations: no job alert');
  }, STEP_MS);

  test('5. both replicas stopped: PushgatewayDown fires (and the replica alert gives way to it)', async () => {
    await a.gateway.stop('SIGTERM');
    await b.gateway.stop('SIGTERM');
    const all = await waitForAlerts('both replicas stopped',
      (x) => firing(x, 'PushgatewayDown').length === 1 && active(x, 'PushgatewayReplicaDown').length === 0);
    expect(firing(all, 'PushgatewayDown')[0].labels).toMatchObject({ job: service, namespace, severity: 'critical' });
    // The job's last values are held through the scrape gap: its success stays its last result.
    expect(jobAlerts(all)).toEqual([]);
    console.log(`alert states seen, in order:\n  ${seen.join('\n  ')}`);
  }, STEP_MS);
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
