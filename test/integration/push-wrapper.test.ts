import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { freePort, pushedValue, runCommand, runningCommand, startPushgateway, waitForOutput } from '../helpers/processes';

const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');
const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const busybox = findBinary('busybox', 'busybox-static');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'push-wrapper-'));

type Client = 'curl' | 'wget' | 'busybox' | 'none';
const CLIENTS = ['curl', 'wget', ...(busybox ? ['busybox' as const] : [])] as const;
const TOOLS = ['sh', 'date', 'sleep', 'true', 'false', 'printf', 'kill'];

/**
 * A PATH holding only what a minimal image has: sh and core tools, plus either curl or wget, so
 * each test shows the wrapper works with exactly that client. `busybox`: every tool, sh and wget
 * included, is BusyBox's, as in an Alpine or busybox image.
 */
function pathWith(client: Client): string {
  const dir = path.join(tmp, `bin-${client}`);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    if (client === 'busybox') {
      for (const tool of [...TOOLS, 'wget']) fs.symlinkSync(busybox!, path.join(dir, tool));
      return dir;
    }
    for (const tool of [...TOOLS, ...(client === 'none' ? [] : [client])]) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found.startsWith('/')) fs.symlinkSync(found, path.join(dir, tool));
    }
  }
  return dir;
}

function wrapperEnv(client: Client, env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: pathWith(client), BATCH_JOB_NAME: 'wrapped-job', ...env };
}

/** The wrapper run to its end without blocking this process, so that concurrent tests go on meanwhile. */
async function runWrapped(client: Client, url: string, command: string[], job = 'wrapped-job', env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await runCommand(path.join(pathWith(client), 'sh'), [wrapper, ...command],
    wrapperEnv(client, { PUSHGATEWAY_URL: url, BATCH_JOB_NAME: job, ...env }));
  return { status: code, stdout, stderr };
}

/** The wrapper run without blocking this process, so that the test can start or stop Pushgateways meanwhile. */
function startWrapped(client: Client, command: string[], env: Record<string, string>) {
  return runningCommand(path.join(pathWith(client), 'sh'), [wrapper, ...command], wrapperEnv(client, env));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether process `pid` has a handler for SIGTERM installed (Linux: bit 15 of SigCgt in /proc/PID/status). */
function catchesSigterm(pid: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return ((BigInt(`0x${mask}`) >> 14n) & 1n) === 1n;
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Each client's tests, and the tests of each describe below, run at once: each has its own job
// name or Pushgateway. Tests that read what an earlier one pushed are marked sequential.
describe.skipIf(!binary)('push-metrics.sh with the real Pushgateway', { concurrent: true }, () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  beforeAll(async () => { pgw = await startPushgateway(binary!); });
  afterAll(async () => pgw?.stop());

  async function group(job: string): Promise<Record<string, number>> {
    const body = await (await fetch(`${pgw.url}/api/v1/metrics`)).json() as any;
    const g = body.data.find((x: any) => x.labels.job === job);
    if (!g) return {};
    return Object.fromEntries(Object.entries(g)
      .filter(([k]) => k.startsWith('batch_job_'))
      .map(([k, v]: [string, any]) => [k, Number(v.metrics[0].value)]));
  }

  for (const client of CLIENTS) {
    describe(`with ${client}`, () => {
      const job = `wrapped-${client}`;

      test.sequential('a succeeding command: exit 0, success 1, its duration, the success time', async () => {
        const before = Math.floor(Date.now() / 1000);
        const run = await runWrapped(client, pgw.url, ['sh', '-c', 'sleep 0.4; echo done'], job);
        expect(run.stderr).toBe('');
        expect(run.stdout).toBe('done\n');
        expect(run.status).toBe(0);
        const m = await group(job);
        expect(m.batch_job_success).toBe(1);
        // BusyBox's date has whole seconds only.
        expect(m.batch_job_duration_seconds).toBeGreaterThanOrEqual(client === 'busybox' ? 0 : 0.4);
        expect(m.batch_job_duration_seconds).toBeLessThan(10);
        expect(m.batch_job_last_success_timestamp_seconds).toBeGreaterThanOrEqual(before);
        expect(m.batch_job_last_success_timestamp_seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      });

      test.sequential('a failing command: its exit code kept, success 0, the last success time untouched', async () => {
        const lastSuccess = (await group(job)).batch_job_last_success_timestamp_seconds;
        expect(lastSuccess).toBeGreaterThan(0);
        const run = await runWrapped(client, pgw.url, ['sh', '-c', 'exit 42'], job);
        expect(run.status).toBe(42);
        const m = await group(job);
        expect(m.batch_job_success).toBe(0);
        expect(m.batch_job_last_success_timestamp_seconds).toBe(lastSuccess);
      });

      // 10 s: at least 5 times the first attempt and back-off on a loaded machine (seen over 2 s).
      test('an unreachable Pushgateway: retried for PUSHGATEWAY_RETRY_SECONDS, the job exit code kept, the failure said on stderr', async () => {
        const ok = await runWrapped(client, 'http://127.0.0.1:9', ['true'], job, { PUSHGATEWAY_RETRY_SECONDS: '10' });
        expect(ok.status).toBe(0);
        expect(ok.stderr).toMatch(/push-metrics: could not push to http:\/\/127\.0\.0\.1:9\/metrics\/job\/wrapped-\w+ \(.+\); retrying for up to 10 s/);
        expect(ok.stderr).toMatch(/could not push after ([2-9]|\d\d) attempts in 10 s:\n  http:\/\/127\.0\.0\.1:9\/metrics\/job\/wrapped-\w+: .+\n/);
        expect(ok.stderr).toMatch(/the result was not delivered; the job's exit status 0 is kept/);
        const failed = await runWrapped(client, 'http://127.0.0.1:9', ['false'], job, { PUSHGATEWAY_RETRY_SECONDS: '0' });
        expect(failed.status).toBe(1);
        expect(failed.stderr).toMatch(/could not push after 1 attempts/);
        expect(failed.stderr).toMatch(/exit status 1 is kept/);
      });

      test('a DNS name that does not resolve is retried too', async () => {
        const run = await runWrapped(client, 'http://pushgateway.invalid', ['true'], job, { PUSHGATEWAY_RETRY_SECONDS: '1' });
        expect(run.status).toBe(0);
        expect(run.stderr).toMatch(/could not push to http:\/\/pushgateway\.invalid\/metrics\/job\/wrapped-\w+ \(.+\); retrying/);
      });
    });
  }

  test('an image with neither curl nor wget: exit code kept, reason on stderr', async () => {
    const run = await runWrapped('none', pgw.url, ['true'], 'wrapped-none');
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/neither curl nor wget is installed in the image/);
  });

  test('SIGTERM is passed on to the command, and the run is pushed as failed', async () => {
    const child = spawn('/bin/sh', [wrapper, 'sh', '-c', 'trap \'kill $sleeper; exit 143\' TERM; echo started; sleep 300 & sleeper=$!; wait'], {
      env: { PATH: pathWith('curl'), PUSHGATEWAY_URL: pgw.url, BATCH_JOB_NAME: 'wrapped-term' },
    });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    // Signalled once the command and the wrapper both handle TERM, however slow the machine.
    while (!stdout.includes('started') || !catchesSigterm(child.pid!)) await sleep(50);
    const started = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(143);
    // Far below the command's 300 s: the signal ended it, even on a loaded machine (seen: 17 s).
    expect(Date.now() - started).toBeLessThan(150_000);
    expect((await group('wrapped-term')).batch_job_success).toBe(0);
  });

  test('SIGTERM while retrying a push: it stops at once, with the command\'s exit status', async () => {
    const child = spawn('/bin/sh', [wrapper, 'sh', '-c', 'exit 7'], {
      env: { PATH: pathWith('curl'), PUSHGATEWAY_URL: 'http://127.0.0.1:9', BATCH_JOB_NAME: 'wrapped-term-retrying' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((r) => child.on('exit', r));
    while (!stderr.includes('retrying for up to 300 s')) await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited).toBe(7);
    // Far below the 300 s bound: the signal ended the retries, even on a loaded machine.
    expect(Date.now() - started).toBeLessThan(150_000);
    expect(stderr).toMatch("push-metrics: stopped while pushing; the job's exit status 7 is kept");
  });

  test('without a command: usage error, exit 2', async () => {
    const run = await runWrapped('curl', pgw.url, []);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: push-metrics.sh COMMAND/);
  });
});

describe.skipIf(!binary)('push-metrics.sh while the Pushgateway is away', { concurrent: true }, () => {
  // One real 20 s outage (a pod restart); shorter ones for the other clients keep the suite quick.
  const outages = CLIENTS.map((client) => ({ client, seconds: client === 'curl' ? 20 : 6 }));
  for (const { client, seconds } of outages) {
    test(`${client}: away for ${seconds} s, back on the same port: the run's own result arrives, the exit status is the job's`, async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const job = `outage-${client}`;
      const ranAt = Math.floor(Date.now() / 1000);
      const run = startWrapped(client, ['sh', '-c', 'exit 3'], { PUSHGATEWAY_URL: url, BATCH_JOB_NAME: job });
      // The outage counts from the first failed push, however long the wrapper took to get there.
      await waitForOutput(run.stderr, `could not push to ${url}`);
      await sleep(seconds * 1000);
      const pgw = await startPushgateway(binary!, [], port);
      try {
        const result = await run.result;
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(`push-metrics: could not push to ${url}/metrics/job/${job} (`);
        expect(result.stderr).toMatch('retrying for up to 300 s');
        expect(result.stderr).toMatch(new RegExp(`push-metrics: pushed to ${url}/metrics/job/${job} on attempt \\d+\\n$`));
        expect(await pushedValue(url, job, 'batch_job_success')).toBe(0);
        expect(await pushedValue(url, job, 'batch_job_last_success_timestamp_seconds')).toBeUndefined();
        expect(await pushedValue(url, job, 'batch_job_duration_seconds')).toBeLessThan(seconds);
        expect(await pushedValue(url, job, 'push_time_seconds')).toBeGreaterThanOrEqual(ranAt + seconds);
      } finally {
        await pgw.stop();
      }
    }, 240_000);
  }

  test('a success delivered late keeps the time the run ended, not the time of the push', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now() / 1000;
    const run = startWrapped('curl', ['true'], { PUSHGATEWAY_URL: url, BATCH_JOB_NAME: 'late-success' });
    // The run has ended once its first push failed.
    await waitForOutput(run.stderr, `could not push to ${url}`);
    const ended = Date.now() / 1000;
    await sleep(4000);
    const pgw = await startPushgateway(binary!, [], port);
    try {
      expect((await run.result).code).toBe(0);
      const lastSuccess = await pushedValue(url, 'late-success', 'batch_job_last_success_timestamp_seconds');
      expect(lastSuccess).toBeGreaterThanOrEqual(Math.floor(started));
      expect(lastSuccess).toBeLessThanOrEqual(ended);
      expect(await pushedValue(url, 'late-success', 'push_time_seconds')).toBeGreaterThanOrEqual(ended + 4);
    } finally {
      await pgw.stop();
    }
  }, 240_000);
});

describe.skipIf(!binary)('push-metrics.sh with two replicas, one stopped', { concurrent: true }, () => {
  let live: Awaited<ReturnType<typeof startPushgateway>>;
  let stopped: Awaited<ReturnType<typeof startPushgateway>>;
  beforeAll(async () => {
    [live, stopped] = await Promise.all([startPushgateway(binary!), startPushgateway(binary!)]);
    await stopped.stop();
  });
  afterAll(async () => live?.stop());

  for (const client of CLIENTS) {
    test(`${client}: delivered to the live replica, the stopped one named, done long before the retry bound`, async () => {
      const job = `replicas-${client}`;
      const started = Date.now();
      const result = await startWrapped(client, ['sh', '-c', 'exit 5'], {
        PUSHGATEWAY_URLS: `${stopped.url}, ${live.url}/`, BATCH_JOB_NAME: job, PUSHGATEWAY_URL: 'http://127.0.0.1:9',
      }).result;
      // The bound is 300 s: ending within half of it shows the grace after the first delivery
      // (10 s), not the bound, even when a loaded machine takes long to start the run.
      expect(Date.now() - started).toBeLessThan(150_000);
      expect(result.code).toBe(5);
      expect(await pushedValue(live.url, job, 'batch_job_success')).toBe(0);
      expect(result.stderr).toMatch(`push-metrics: delivered to 1 of 2 Pushgateway replicas; still failing after`);
      expect(result.stderr).toMatch(`\n  ${stopped.url}/metrics/job/${job}: `);
      expect(result.stderr).not.toMatch('127.0.0.1:9/');
    }, 200_000);
  }
});

describe.skipIf(!binary)('push-metrics.sh when the Pushgateway rejects the push', () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  beforeAll(async () => {
    pgw = await startPushgateway(binary!);
    // The same name as a counter in another group: every push of the wrapper's gauge is inconsistent (400).
    const res = await fetch(`${pgw.url}/metrics/job/counter-owner`, { method: 'POST', body: '# TYPE batch_job_success counter\nbatch_job_success 1\n' });
    expect(res.status).toBe(200);
  });
  afterAll(async () => pgw?.stop());

  async function rejectedPushes(): Promise<number> {
    const text = await (await fetch(`${pgw.url}/metrics`)).text();
    return Number(/pushgateway_http_requests_total\{code="400",handler="push",method="post"\} (\d+)/.exec(text)?.[1] ?? 0);
  }

  for (const client of CLIENTS) {
    test(`${client}: a 4xx is said and never retried; the exit status is the job's`, async () => {
      const job = `rejected-${client}`;
      const before = await rejectedPushes();
      const started = Date.now();
      const result = await startWrapped(client, ['true'], { PUSHGATEWAY_URL: pgw.url, BATCH_JOB_NAME: job }).result;
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`push-metrics: ${pgw.url}/metrics/job/${job} rejected the push \\(.*400.*\\); not retried`));
      expect(result.stderr).not.toMatch('retrying');
      expect(result.stderr).toMatch("the result was not delivered; the job's exit status 0 is kept");
      expect(await rejectedPushes()).toBe(before + 1);
    });
  }
});
