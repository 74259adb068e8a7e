// The fleet's Pushgateway for `npm run bench:rules`: the history Prometheus would have scraped from
// it every 15 s while the jobs ran, written as OpenMetrics text and backfilled into a TSDB data
// folder with `promtool tsdb create-blocks-from openmetrics` (a time window per file, so that no
// file, and no block, holds more than BLOCK_SECONDS of it), and a /metrics that serves the same
// values live afterwards, so that the history goes on while the rules are measured.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { FleetJob } from './rule-fleet';

export const SCRAPE_SECONDS = 15;
// One of promtool's block durations (2h times a power of 3), below what Prometheus compacts to
// with its default retention (10% of 15d), so that it does not compact the backfilled blocks again
// while the benchmark measures.
const BLOCK_SECONDS = 18 * 3600;
const PARALLEL_BACKFILLS = 2;

/**
 * The series of one job, as `[metric, value at scrape time t]`: the Pushgateway serves what the
 * job's latest run pushed (every run succeeds) until the next run pushes.
 */
function jobSeries(job: FleetJob): Array<[string, (t: number) => number]> {
  const lastPush = (t: number) => {
    const k = Math.floor((t - job.phaseSeconds - job.runSeconds) / job.intervalSeconds);
    return job.phaseSeconds + k * job.intervalSeconds + job.runSeconds;
  };
  return [
    ['push_time_seconds', lastPush],
    ['push_failure_time_seconds', () => 0],
    ['batch_job_success', () => 1],
    ['batch_job_duration_seconds', () => job.runSeconds],
    ['batch_job_last_success_timestamp_seconds', lastPush],
  ];
}

const labelText = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');

/**
 * Writes the samples of scrape times `from` <= t <= `to` (multiples of SCRAPE_SECONDS) as
 * OpenMetrics, each family contiguous: the jobs' five Pushgateway series, and the Pushgateway's
 * `up`. Streams, so that a file of gigabytes never sits in memory.
 */
async function writeOpenMetrics(file: string, jobs: FleetJob[], targetLabels: Record<string, string>, from: number, to: number, instance: string): Promise<number> {
  const out = fs.createWriteStream(file);
  let buffer = '';
  let samples = 0;
  const flush = async () => {
    if (!out.write(buffer)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    buffer = '';
  };
  const family = async (metric: string, series: Array<[string, (t: number) => number]>) => {
    buffer += `# TYPE ${metric} gauge\n`;
    for (const [labels, value] of series) {
      const prefix = `${metric}{${labels}} `;
      for (let t = from; t <= to; t += SCRAPE_SECONDS) {
        buffer += `${prefix}${value(t)} ${t}\n`;
        samples++;
        if (buffer.length >= 1 << 20) await flush();
      }
    }
  };
  const perJob = jobs.map((job) => ({ labels: labelText({ job: job.name, ...targetLabels }), series: jobSeries(job) }));
  for (const [i, [metric]] of perJob[0].series.entries()) {
    await family(metric, perJob.map((j) => [j.labels, j.series[i][1]]));
  }
  await family('up', [[labelText({ job: targetLabels.service, instance, ...targetLabels }), () => 1]]);
  buffer += '# EOF\n';
  await flush();
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return samples;
}

function backfill(file: string, dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', `--max-block-duration=${BLOCK_SECONDS / 3600}h`, file, dataDir],
      { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => (error ? reject(new Error(`promtool backfill of ${file}: ${error.message}\n${stderr}`)) : resolve()));
  });
}

/**
 * Backfills the fleet's history of scrape times `from` to `to` into `dataDir`: one OpenMetrics file
 * per BLOCK_SECONDS window (aligned as promtool aligns its blocks), written while the previous ones
 * are backfilled, each deleted once it is. Returns the number of samples.
 */
export async function backfillHistory(
  dataDir: string, scratch: string, pushgateway: LivePushgateway, targetLabels: Record<string, string>, from: number, to: number,
): Promise<number> {
  const running = new Set<Promise<void>>();
  let samples = 0;
  for (let window = Math.floor(from / BLOCK_SECONDS) * BLOCK_SECONDS; window <= to; window += BLOCK_SECONDS) {
    const start = Math.max(from, window);
    const end = Math.min(to, window + BLOCK_SECONDS - SCRAPE_SECONDS);
    const file = path.join(scratch, `history-${start}.om`);
    samples += await writeOpenMetrics(file, pushgateway.jobs, targetLabels, start, end, pushgateway.address);
    const job: Promise<void> = backfill(file, dataDir).finally(() => {
      fs.rmSync(file, { force: true });
      running.delete(job);
    });
    running.add(job);
    if (running.size >= PARALLEL_BACKFILLS) await Promise.race(running);
  }
  await Promise.all(running);
  return samples;
}

export interface LivePushgateway {
  readonly jobs: FleetJob[];
  /** host:port of its /metrics, the `instance` of its target. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves, on 127.0.0.1 and a free port, what the fleet's Pushgateway serves at the time of each
 * scrape: the jobs' series as pushed, with `instance=""` as a Pushgateway adds it.
 */
export async function startLivePushgateway(jobs: FleetJob[]): Promise<LivePushgateway> {
  const perJob = jobs.map((job) => ({ labels: labelText({ job: job.name, instance: '' }), series: jobSeries(job) }));
  const server = http.createServer((_req, res) => {
    const t = Math.floor(Date.now() / 1000);
    const lines: string[] = [];
    for (const [i, [metric]] of perJob[0].series.entries()) {
      lines.push(`# TYPE ${metric} gauge`);
      for (const j of perJob) lines.push(`${metric}{${j.labels}} ${j.series[i][1](t)}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jobs,
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
