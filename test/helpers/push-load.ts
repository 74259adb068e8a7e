import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunningProcess, freePort, runCommand, startPrometheus, startPushgateway } from './processes';

/**
 * Job runs pushing through a push wrapper while Pushgateway 0 is stopped and restarted on its
 * port and persistence file, with a real Prometheus scraping every Pushgateway (honor_labels, as
 * the ServiceMonitor does). Shared by `npm run bench:ha` and its smaller test.
 */
export interface PushLoad {
  readonly name: string;
  readonly replicas: number;
  /** The push wrapper script to run every job through. */
  readonly wrapper: string;
  /** How Pushgateway 0 is stopped: SIGKILL (a crash) or SIGTERM (a pod stopped; it writes its file). */
  readonly signal: NodeJS.Signals;
  readonly runs: number;
  /** Run i works i × spreadMs / runs, so that the runs end over this window. */
  readonly spreadMs: number;
  readonly stopAtMs: number;
  readonly downMs: number;
}

export interface PushLoadResult {
  readonly name: string;
  readonly runs: number;
  readonly exitKept: number;
  /** Runs whose wrapper did not report the result as undelivered. */
  readonly delivered: number;
  /** Runs whose own outcome Prometheus does not show. */
  readonly lost: number;
  readonly retried: number;
  readonly missedReplica: number;
  readonly perReplica: number[];
  readonly finishedSeconds: number;
  readonly pushMedian: number;
  readonly pushMax: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function query(prometheus: { url: string }, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const json = await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json() as any;
  if (json.status !== 'success') throw new Error(`${promql}: ${JSON.stringify(json)}`);
  return json.data.result;
}

/** One job run through the wrapper: it works for `workMs`, then exits with `code`. */
async function runJob(wrapper: string, env: Record<string, string>, workMs: number, code: number) {
  const started = Date.now();
  const result = await runCommand('sh', [wrapper, 'sh', '-c', `sleep ${(workMs / 1000).toFixed(2)}; exit ${code}`], { PATH: process.env.PATH, ...env });
  return { exitCode: result.code, stderr: result.stderr, pushSeconds: (Date.now() - started - workMs) / 1000 };
}

/** Runs `load` with these binaries of prometheus-pushgateway and prometheus; every seventh run fails. */
export async function pushThroughRestart(load: PushLoad, binaries: { pushgateway: string; prometheus: string }): Promise<PushLoadResult> {
  const { name, replicas, wrapper, signal, runs: count, spreadMs, stopAtMs, downMs } = load;
  const startReplica = (port: number, file: string): Promise<RunningProcess> =>
    // The construct's default persistence interval: a killed replica loses what came since its last write.
    startPushgateway(binaries.pushgateway, [`--persistence.file=${file}`, '--persistence.interval=5m'], port);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-load-'));
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const files = ports.map((_, i) => path.join(dir, `replica-${i}.data`));
  const pushgateways = await Promise.all(ports.map((p, i) => startReplica(p, files[i])));
  const prometheus = await startPrometheus(binaries.prometheus, dir, {
    global: { scrape_interval: '1s', scrape_timeout: '1s' },
    scrape_configs: [{ job_name: 'pushgateway', honor_labels: true, static_configs: [{ targets: ports.map((p) => `127.0.0.1:${p}`) }] }],
  });
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const env: Record<string, string> = replicas > 1 ? { PUSHGATEWAY_URLS: urls.join(','), PUSHGATEWAY_URL: urls[0] } : { PUSHGATEWAY_URL: urls[0] };
  const prefix = `bench-${name.replace(/\W+/g, '-')}-`;
  const started = Date.now();
  try {
    const runs = Array.from({ length: count }, (_, i) => {
      const code = i % 7 === 0 ? 1 : 0;
      const workMs = Math.round((i * spreadMs) / count);
      return runJob(wrapper, { ...env, BATCH_JOB_NAME: `${prefix}${i}` }, workMs, code).then((r) => ({ ...r, i, code }));
    });
    await sleep(stopAtMs);
    await pushgateways[0].stop(signal);
    await sleep(downMs);
    pushgateways[0] = await startReplica(ports[0], files[0]);
    const results = await Promise.all(runs);
    const finishedSeconds = (Date.now() - started) / 1000;

    // What Prometheus shows once it has scraped every replica since the last run ended: polled
    // until every run's own outcome is there, for at most 30 scrape intervals (a loaded machine
    // scrapes late); what is still missing then is lost.
    const outcomes = async () => new Map((await query(prometheus, `max by (job) (batch_job_success{job=~"${prefix}.*"})`))
      .map((s) => [s.metric.job, Number(s.value[1])]));
    const missing = (seen: Map<string, number>) => results.filter((r) => seen.get(`${prefix}${r.i}`) !== (r.code === 0 ? 1 : 0));
    let seen = await outcomes();
    for (const until = Date.now() + 30_000; missing(seen).length > 0 && Date.now() < until; seen = await outcomes()) await sleep(500);
    const lost = missing(seen);
    const perReplica = await Promise.all(urls.map(async (url) => {
      const json = await (await fetch(`${url}/api/v1/metrics`)).json() as { data: Array<{ labels: Record<string, string> }> };
      return json.data.filter((g) => g.labels.job.startsWith(prefix)).length;
    }));
    const pushSeconds = results.map((r) => r.pushSeconds).sort((a, b) => a - b);
    return {
      name, runs: count,
      exitKept: results.filter((r) => r.exitCode === r.code).length,
      // The wrapper's own verdict: the current one says "not delivered", the seed one "could not push ... is kept".
      delivered: results.filter((r) => !/not delivered|could not push to .*is kept/.test(r.stderr)).length,
      lost: lost.length,
      retried: results.filter((r) => /retrying for up to/.test(r.stderr)).length,
      missedReplica: results.filter((r) => /delivered to \d+ of \d+ Pushgateway replicas; still failing/.test(r.stderr)).length,
      perReplica,
      finishedSeconds,
      pushMedian: pushSeconds[Math.floor(pushSeconds.length / 2)],
      pushMax: pushSeconds[pushSeconds.length - 1],
    };
  } finally {
    await prometheus.stop();
    for (const pgw of pushgateways) await pgw.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
