// npm run bench:capacity: what one Pushgateway (Debian's real prometheus-pushgateway, consistency
// check on, as deployed) costs at 1,000, 10,000 and 50,000 groups of the shape the shipped wrapper
// pushes (per-run job_id groups): push latency and CPU, resident memory at rest, while Prometheus
// scrapes it, while the cleanup reads it, and, for contrast, while GET /api/v1/metrics is served.
// Writes its section of docs/benchmarks.md. BENCH_CAPACITY_GROUPS=1000,5000 measures other sizes.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand, startPushgateway } from '../test/helpers/processes';
import { groupCount, peakRss, pushgatewayStore, status } from '../test/helpers/pushgateway-fill';

const { writeSection } = require('./bench/benchmarks-file') as { writeSection(heading: string, text: string): string };

const ROOT = path.join(__dirname, '..');
const HEADING = '## Pushgateway capacity';
const PROGRAM = path.join(ROOT, 'lib', 'cleanup', 'pushgateway-cleanup.js');
const SIZES = (process.env.BENCH_CAPACITY_GROUPS ?? '1000,10000,50000').split(',').map(Number);
const PUSHES = Number(process.env.BENCH_CAPACITY_PUSHES ?? 10);
const RESULT = 'batch_job_success 1\nbatch_job_duration_seconds 12.5\nbatch_job_last_success_timestamp_seconds 1.7e9\n'
  + 'batch_job_running 0\nbatch_job_exit_code 0\nbatch_job_exit_signal 0\n';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Row {
  groups: number; fillSeconds: number; fileMiB: number; restMiB: number;
  pushMs: number; pushP90Ms: number; pushCpuMs: number;
  scrapeSeconds: number; scrapeCpuSeconds: number; scrapePeakMiB: number;
  cleanupPeakMiB: number; cleanupSeconds: number; apiPeakMiB: number; apiSeconds: number;
}

async function measure(binary: string, groups: number): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-capacity-'));
  try {
    const started = Date.now();
    const paths = Array.from({ length: groups }, (_, i) => `job/job-${i % 100}/job_id/run-${i}`);
    const file = await pushgatewayStore(binary, dir, paths, () => RESULT);
    const fillSeconds = (Date.now() - started) / 1000;
    const pgw = await startPushgateway(binary, [`--persistence.file=${file}`, '--persistence.interval=1h']);
    try {
      if ((await groupCount(pgw.url)) !== groups) throw new Error(`the Pushgateway holds ${await groupCount(pgw.url)} groups, not ${groups}`);
      await sleep(5000);
      const restMiB = status(pgw.pid, 'VmRSS');

      // A new run's push to a new group, one at a time, as jobs do.
      const latencies: number[] = [];
      const cpuBefore = cpuSeconds(pgw.pid);
      for (let i = 0; i < PUSHES; i++) {
        const t = performance.now();
        const res = await fetch(`${pgw.url}/metrics/job/job-${i}/job_id/bench-${i}`, { method: 'PUT', body: RESULT });
        if (res.status !== 200) throw new Error(`push: HTTP ${res.status} ${await res.text()}`);
        latencies.push(performance.now() - t);
      }
      const pushCpuMs = ((cpuSeconds(pgw.pid) - cpuBefore) / PUSHES) * 1000;
      latencies.sort((a, b) => a - b);

      let peak = peakRss(pgw.pid);
      let cpu = cpuSeconds(pgw.pid);
      let t = performance.now();
      await (await fetch(`${pgw.url}/metrics`)).text();
      const scrapeSeconds = (performance.now() - t) / 1000;
      const scrapeCpuSeconds = cpuSeconds(pgw.pid) - cpu;
      const scrapePeakMiB = peak.stop().peakMiB;

      // A dry run: the reading is what costs the Pushgateway memory; deleting costs little.
      peak = peakRss(pgw.pid);
      t = performance.now();
      const run = await runCommand(process.execPath, [PROGRAM, '--url', pgw.url, '--max-age', '1s', '--dry-run', '--json'], process.env);
      const cleanupSeconds = (performance.now() - t) / 1000;
      if (run.code !== 0) throw new Error(`cleanup: exit ${run.code}: ${run.stderr}`);
      const cleanupPeakMiB = peak.stop().peakMiB;

      // Last: this is the request that can take the Pushgateway down.
      let apiPeakMiB = NaN;
      let apiSeconds = NaN;
      try {
        peak = peakRss(pgw.pid);
        t = performance.now();
        await (await fetch(`${pgw.url}/api/v1/metrics`)).text();
        apiSeconds = (performance.now() - t) / 1000;
        apiPeakMiB = peak.stop().peakMiB;
      } catch (e) {
        process.stderr.write(`bench-capacity: GET /api/v1/metrics at ${groups} groups failed: ${e}\n${pgw.output().slice(-2000)}\n`);
      }
      return {
        groups, fillSeconds, fileMiB: fs.statSync(file).size / 2 ** 20, restMiB,
        pushMs: latencies[Math.floor(PUSHES / 2)], pushP90Ms: latencies[Math.floor(PUSHES * 0.9)], pushCpuMs,
        scrapeSeconds, scrapeCpuSeconds, scrapePeakMiB, cleanupPeakMiB, cleanupSeconds, apiPeakMiB, apiSeconds,
      };
    } finally {
      await pgw.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function section(rows: Row[], version: string): string {
  const f0 = (x: number) => x.toFixed(0);
  const f1 = (x: number) => x.toFixed(1);
  const n = (x: number) => x.toLocaleString('en');
  return `${HEADING} (\`npm run bench:capacity\`)

One Pushgateway (${version}, consistency check on, in memory after loading its persistence
file) holding N groups of the shape the shipped wrapper pushes: per-run groups
\`{job="job-K",job_id="run-M"}\` of 100 jobs, each with the wrapper's six metrics (eight series with
\`push_time_seconds\` and \`push_failure_time_seconds\`).

| groups | push latency, median / p90 (ms) | Pushgateway CPU per push (ms) | RSS at rest (MiB) | scrape of /metrics: wall (s) / CPU (s) / peak RSS (MiB) | cleanup reading (streamed /metrics): peak RSS (MiB) | GET /api/v1/metrics: peak RSS (MiB) |
| --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| ${n(r.groups)} | ${f0(r.pushMs)} / ${f0(r.pushP90Ms)} | ${f0(r.pushCpuMs)} | ${f0(r.restMiB)} | ${f1(r.scrapeSeconds)} / ${f1(r.scrapeCpuSeconds)} / ${f0(r.scrapePeakMiB)} | ${f0(r.cleanupPeakMiB)} | ${Number.isNaN(r.apiPeakMiB) ? 'failed' : f0(r.apiPeakMiB)} |`).join('\n')}

What follows (the defaults and the alert are set from these figures):

- Memory grows with the groups: about ${f0((rows.at(-1)!.restMiB - rows[0].restMiB) / ((rows.at(-1)!.groups - rows[0].groups) / 1000))} MiB per 1,000 groups at rest, plus
  what a scrape of /metrics or the cleanup's reading allocates on top. \`GET /api/v1/metrics\` (what
  the cleanup read before) allocates far more: it was the cleanup that killed the Pushgateway.
- Each push costs the Pushgateway CPU in proportion to the groups it holds (the consistency check
  gathers the whole store), and so does each scrape.
- The library's defaults (requests 50m / 128Mi, limits 1 CPU / 384Mi, GOMEMLIMIT 90 % of the memory
  limit) are sized for 10,000 such groups: a push then costs the Pushgateway most of a CPU second and
  a scrape about as much, and 15,000 groups stay below 75 % of the memory limit while the cleanup
  runs (\`test/integration/cleanup-large.test.ts\`). \`PushgatewayNearCapacity\` warns past 80 % of
  10,000 groups or of the memory limit. Groups with more metrics cost more: the memory share of the
  alert watches \`process_resident_memory_bytes\` against the container's limit.

Method: \`scripts/bench-capacity.ts\` fills each store fast on a Pushgateway with its consistency
check off and stops it (it writes its persistence file), then starts a Pushgateway with the check on
from that file, waits 5 s, and measures: ${PUSHES} pushes to new groups one after the other (latency, and the
Pushgateway's CPU time from /proc/<pid>/stat); one GET /metrics; one dry run of the cleanup; one GET
/api/v1/metrics. Peak RSS is the Pushgateway's VmHWM, reset (\`/proc/<pid>/clear_refs\`) before each.
Machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${f0(os.totalmem() / 2 ** 30)} GiB RAM, shared with other
work while it ran (load average ${os.loadavg()[0].toFixed(0)} at the end): the wall times are inflated by it,
the CPU times and memory much less. Filling took ${rows.map((r) => `${f0(r.fillSeconds)} s`).join(', ')}.
`;
}

async function main() {
  const binary = execFileSync('sh', ['-c', 'command -v prometheus-pushgateway'], { encoding: 'utf8' }).trim();
  const version = execFileSync('sh', ['-c', `"${binary}" --version 2>&1 | head -1`], { encoding: 'utf8' }).trim().replace(/ \(.*/, '');
  const rows: Row[] = [];
  for (const groups of SIZES) {
    process.stderr.write(`bench-capacity: ${groups} groups...\n`);
    const row = await measure(binary, groups);
    process.stderr.write(`bench-capacity: ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  const text = section(rows, version);
  writeSection(HEADING, text);
  process.stdout.write(text);
}

main().catch((e) => {
  process.stderr.write(`bench-capacity: ${e.stack || e}\n`);
  process.exitCode = 1;
});
