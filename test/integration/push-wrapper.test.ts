import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { startPushgateway } from '../helpers/processes';

const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');
const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'push-wrapper-'));

/**
 * A PATH holding only what a minimal image has: sh and core tools, plus either curl or wget, so
 * each test shows the wrapper works with exactly that client.
 */
function pathWith(client: 'curl' | 'wget' | 'none'): string {
  const dir = path.join(tmp, `bin-${client}`);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    const tools = ['sh', 'date', 'sleep', 'true', 'false', 'printf', 'kill', ...(client === 'none' ? [] : [client])];
    for (const tool of tools) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found.startsWith('/')) fs.symlinkSync(found, path.join(dir, tool));
    }
  }
  return dir;
}

function runWrapped(client: 'curl' | 'wget' | 'none', url: string, command: string[], job = 'wrapped-job') {
  return spawnSync('/bin/sh', [wrapper, ...command], {
    encoding: 'utf8',
    env: { PATH: pathWith(client), PUSHGATEWAY_URL: url, BATCH_JOB_NAME: job },
    timeout: 30_000,
  });
}

describe.skipIf(!binary)('push-metrics.sh with the real Pushgateway', () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  beforeAll(async () => { pgw = await startPushgateway(binary!); });
  afterAll(async () => {
    await pgw?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function group(job: string): Promise<Record<string, number>> {
    const body = await (await fetch(`${pgw.url}/api/v1/metrics`)).json() as any;
    const g = body.data.find((x: any) => x.labels.job === job);
    if (!g) return {};
    return Object.fromEntries(Object.entries(g)
      .filter(([k]) => k.startsWith('batch_job_'))
      .map(([k, v]: [string, any]) => [k, Number(v.metrics[0].value)]));
  }

  for (const client of ['curl', 'wget'] as const) {
    describe(`with ${client}`, () => {
      const job = `wrapped-${client}`;

      test('a succeeding command: exit 0, success 1, its duration, the success time', async () => {
        const before = Math.floor(Date.now() / 1000);
        const run = runWrapped(client, pgw.url, ['sh', '-c', 'sleep 0.4; echo done'], job);
        expect(run.stderr).toBe('');
        expect(run.stdout).toBe('done\n');
        expect(run.status).toBe(0);
        const m = await group(job);
        expect(m.batch_job_success).toBe(1);
        expect(m.batch_job_duration_seconds).toBeGreaterThanOrEqual(0.4);
        expect(m.batch_job_duration_seconds).toBeLessThan(10);
        expect(m.batch_job_last_success_timestamp_seconds).toBeGreaterThanOrEqual(before);
        expect(m.batch_job_last_success_timestamp_seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      });

      test('a failing command: its exit code kept, success 0, the last success time untouched', async () => {
        const lastSuccess = (await group(job)).batch_job_last_success_timestamp_seconds;
        expect(lastSuccess).toBeGreaterThan(0);
        const run = runWrapped(client, pgw.url, ['sh', '-c', 'exit 42'], job);
        expect(run.status).toBe(42);
        const m = await group(job);
        expect(m.batch_job_success).toBe(0);
        expect(m.batch_job_last_success_timestamp_seconds).toBe(lastSuccess);
      });

      test('an unreachable Pushgateway: the job exit code is kept and the failure is said on stderr', () => {
        const ok = runWrapped(client, 'http://127.0.0.1:9', ['true'], job);
        expect(ok.status).toBe(0);
        expect(ok.stderr).toMatch(/push-metrics: could not push to http:\/\/127\.0\.0\.1:9\/metrics\/job\/wrapped-\w+ .*the job's exit status 0 is kept/);
        const failed = runWrapped(client, 'http://127.0.0.1:9', ['false'], job);
        expect(failed.status).toBe(1);
        expect(failed.stderr).toMatch(/exit status 1 is kept/);
      });
    });
  }

  test('an image with neither curl nor wget: exit code kept, reason on stderr', () => {
    const run = runWrapped('none', pgw.url, ['true'], 'wrapped-none');
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/neither curl nor wget is installed in the image/);
  });

  test('SIGTERM is passed on to the command, and the run is pushed as failed', async () => {
    const child = spawn('/bin/sh', [wrapper, 'sh', '-c', 'trap "exit 143" TERM; sleep 30 & wait'], {
      env: { PATH: pathWith('curl'), PUSHGATEWAY_URL: pgw.url, BATCH_JOB_NAME: 'wrapped-term' },
    });
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(143);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await group('wrapped-term')).batch_job_success).toBe(0);
  });

  test('without a command: usage error, exit 2', () => {
    const run = runWrapped('curl', pgw.url, []);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: push-metrics.sh COMMAND/);
  });
});
