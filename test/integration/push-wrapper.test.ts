import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { freePort, pushedValue, pushgatewayGroups, runCommand, runningCommand, startPushgateway, waitForOutput } from '../helpers/processes';

const wrapper = path.resolve(__dirname, '..', '..', 'lib', 'push-wrapper', 'push-metrics.sh');
const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
const busybox = findBinary('busybox', 'busybox-static');
const dash = findBinary('dash', 'dash');
const bash = findBinary('bash', 'bash');
const unshare = findBinary('unshare', 'util-linux');
const mount = findBinary('mount', 'mount');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'push-wrapper-'));

type Client = 'curl' | 'wget' | 'busybox' | 'none';
const CLIENTS = ['curl', 'wget', ...(busybox ? ['busybox' as const] : [])] as const;
const TOOLS = ['sh', 'date', 'sleep', 'true', 'false', 'printf', 'kill', 'base64', 'tr'];

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

/** The three shells the wrapper runs under, each with a client of a minimal image that has it. */
const SHELLS = [
  ...(dash ? [{ name: 'dash', command: dash, args: [] as string[], client: 'curl' as const }] : []),
  ...(bash ? [{ name: 'bash', command: bash, args: [] as string[], client: 'wget' as const }] : []),
  ...(busybox ? [{ name: 'BusyBox sh', command: busybox, args: ['sh'], client: 'busybox' as const }] : []),
];
type Shell = typeof SHELLS[number];

/**
 * The wrapper started under `shell`, its stdin a pipe the test writes to (or closes). `prefix`
 * runs it through another command first (unshare).
 */
function launch(shell: Shell, command: string[], env: Record<string, string>, options: { path?: string; prefix?: string[] } = {}) {
  const wrapperEnvironment = wrapperEnv(shell.client, env);
  if (options.path) wrapperEnvironment.PATH = `${options.path}:${wrapperEnvironment.PATH}`;
  const argv = [...(options.prefix ?? []), shell.command, ...shell.args, wrapper, ...command];
  const child = spawn(argv[0], argv.slice(1), { env: wrapperEnvironment, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    result,
    /** Resolves once the command has written `text`, e.g. when its TERM trap is set. */
    async printed(text: string, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms; stderr: ${stderr}`);
        await sleep(20);
      }
    },
  };
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

      test('BATCH_JOB_CONTAINER: each container its own group (batch_container), any name escaped as the URL needs', async () => {
        const containerJob = `containers-${client}`;
        expect((await runWrapped(client, pgw.url, ['false'], containerJob, { BATCH_JOB_CONTAINER: 'dump' })).status).toBe(1);
        expect((await runWrapped(client, pgw.url, ['true'], containerJob, { BATCH_JOB_CONTAINER: 'upload' })).status).toBe(0);
        expect((await runWrapped(client, pgw.url, ['true'], containerJob, { BATCH_JOB_CONTAINER: 'odd/name %2F' })).status).toBe(0);
        const groups = (await pushgatewayGroups(pgw.url)).filter((g) => g.labels.job === containerJob);
        const success = Object.fromEntries(groups.map((g) => [g.labels.batch_container, Number(g.batch_job_success.metrics[0].value)]));
        expect(success).toEqual({ 'dump': 0, 'upload': 1, 'odd/name %2F': 1 });
        expect(groups.map((g) => Object.keys(g.labels).sort())).toEqual(groups.map(() => ['batch_container', 'job']));
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

  test('SIGTERM while retrying a push: it stops at once, with the command\'s exit status', async () => {
    const child = spawn('/bin/sh', [wrapper, 'sh', '-c', 'exit 7'], {
      env: { PATH: pathWith('curl'), PUSHGATEWAY_URL: 'http://127.0.0.1:9', BATCH_JOB_NAME: 'wrapped-term-retrying' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((r) => child.on('close', r));
    while (!stderr.includes('retrying for up to 300 s')) await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited).toBe(7);
    // Far below the 300 s bound: the signal ended the retries, even on a loaded machine.
    expect(Date.now() - started).toBeLessThan(150_000);
    expect(stderr).toMatch("push-metrics: stopped while pushing; the job's exit status 7 is kept");
  });

  test('the run start push never holds the command back, and ends before the result push', async () => {
    // The command writes to the wrapper's stderr, so the order of the lines there is the order of
    // events, whatever the machine's load: a start pushed in the foreground would give up (after
    // its 3 s bound) before the command said "ready".
    const run = launch(SHELLS[0], ['sh', '-c', 'echo ready >&2'], { PUSHGATEWAY_URL: 'http://127.0.0.1:9', BATCH_JOB_NAME: 'start-unreachable', PUSHGATEWAY_RETRY_SECONDS: '3' });
    run.child.stdin.end();
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/push-metrics: could not push the run start to http:\/\/127\.0\.0\.1:9\/metrics\/job\/start-unreachable \(.+\); retrying for up to 3 s\n/);
    const ready = r.stderr.indexOf('ready\n');
    const startGaveUp = r.stderr.indexOf('push-metrics: the run start was not delivered; the run goes on');
    expect(ready).toBeGreaterThanOrEqual(0);
    expect(startGaveUp).toBeGreaterThan(ready);
    expect(r.stderr.indexOf('push-metrics: could not push to ')).toBeGreaterThan(startGaveUp);
    expect(r.stderr).toMatch(/the result was not delivered; the job's exit status 0 is kept\n$/);
  });

  test('without a command: usage error, exit 2', async () => {
    const run = await runWrapped('curl', pgw.url, []);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: push-metrics.sh COMMAND/);
  });
});

// Each test pushes to a job of its own (or a Pushgateway of its own): they run side by side.
describe.skipIf(!binary)('push-metrics.sh in dash, bash and BusyBox sh: signals, stdin, clock, targets, what is pushed', { concurrent: true }, () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  beforeAll(async () => { pgw = await startPushgateway(binary!); });
  afterAll(async () => pgw?.stop());

  /** Every metric of the group of `job` alone, with `signal` label values kept apart. */
  async function group(job: string): Promise<Record<string, number>> {
    const g = (await pushgatewayGroups(pgw.url)).find((x) => x.labels.job === job && Object.keys(x.labels).length === 1);
    const out: Record<string, number> = {};
    for (const [name, family] of Object.entries(g ?? {})) {
      if (name === 'labels' || name === 'last_push_successful') continue;
      for (const m of (family as any).metrics) out[m.labels.signal ? `${name}{${m.labels.signal}}` : name] = Number(m.value);
    }
    return out;
  }

  for (const shell of SHELLS) {
    describe(shell.name, () => {
      const job = (what: string) => `${what}-${shell.name.replace(' ', '-').toLowerCase()}`;
      const env = (name: string) => ({ PUSHGATEWAY_URL: pgw.url, BATCH_JOB_NAME: name });
      // The command says "ready" once its own TERM trap is set, and ends its sleep when it exits.
      const onTerm = (action: string) => ['sh', '-c', `trap 'kill $s; ${action}' TERM; sleep 30 & s=$!; echo ready; wait $s`];

      async function terminated(name: string, command: string[]) {
        const run = launch(shell, command, env(name));
        run.child.stdin.end();
        await run.printed('ready');
        run.child.kill('SIGTERM');
        return { ...(await run.result), metrics: await group(name) };
      }

      test('TERM to a command that handles it and exits 3: pushed and exited as 3, not 143', async () => {
        const r = await terminated(job('term-exit-3'), onTerm('exit 3'));
        expect(r.code).toBe(3);
        expect(r.metrics).toMatchObject({ batch_job_success: 0, batch_job_exit_code: 3, batch_job_exit_signal: 0, batch_job_running: 0 });
      });

      test('TERM to a command that exits 0 on it: a success', async () => {
        const r = await terminated(job('term-exit-0'), onTerm('exit 0'));
        expect(r.code).toBe(0);
        expect(r.metrics).toMatchObject({ batch_job_success: 1, batch_job_exit_code: 0, batch_job_exit_signal: 0 });
        expect(r.metrics.batch_job_last_success_timestamp_seconds).toBeGreaterThan(0);
      });

      test('TERM to a command that does not handle it: killed by SIGTERM, exit 143, signal pushed', async () => {
        const r = await terminated(job('term-killed'), ['sh', '-c', 'echo ready; exec sleep 30']);
        expect(r.code).toBe(143);
        expect(r.metrics).toMatchObject({ 'batch_job_success': 0, 'batch_job_exit_code': 143, 'batch_job_exit_signal{SIGTERM}': 15 });
        expect(r.metrics.batch_job_exit_signal).toBeUndefined();
      });

      test('exit code and signal pushed: exit 3, then killed by KILL (SIGKILL 9), then exit 0 clears the signal', async () => {
        const name = job('exit-code');
        const exited = await launch(shell, ['sh', '-c', 'exit 3'], env(name)).result;
        expect(exited.code).toBe(3);
        expect(await group(name)).toMatchObject({ batch_job_exit_code: 3, batch_job_exit_signal: 0, batch_job_success: 0 });
        const killed = await launch(shell, ['sh', '-c', 'kill -KILL $$'], env(name)).result;
        expect(killed.code).toBe(137);
        const afterKill = await group(name);
        expect(afterKill).toMatchObject({ 'batch_job_exit_code': 137, 'batch_job_exit_signal{SIGKILL}': 9, 'batch_job_success': 0 });
        expect(afterKill.batch_job_exit_signal).toBeUndefined();
        expect((await launch(shell, ['true'], env(name)).result).code).toBe(0);
        const ok = await group(name);
        expect(ok).toMatchObject({ batch_job_exit_code: 0, batch_job_exit_signal: 0, batch_job_success: 1 });
        expect(ok['batch_job_exit_signal{SIGKILL}']).toBeUndefined();
      });

      test('the command reads the wrapper\'s stdin', async () => {
        const run = launch(shell, ['sh', '-c', 'read a; read b; echo "got $a $b"'], env(job('stdin')));
        run.child.stdin.end('first\nsecond\n');
        const r = await run.result;
        expect(r.stdout).toBe('got first second\n');
        expect(r.code).toBe(0);
      });

      test('running 1 from the start of a run, the last result kept meanwhile; running 0 at its end', async () => {
        const name = job('running');
        expect((await launch(shell, ['true'], env(name)).result).code).toBe(0);
        const before = await group(name);
        expect(before).toMatchObject({ batch_job_running: 0, batch_job_success: 1 });
        // The command runs until the test writes a line to its stdin.
        const run = launch(shell, ['sh', '-c', 'echo ready; read line; exit 4'], env(name));
        await run.printed('ready');
        const deadline = Date.now() + 30_000;
        while ((await group(name)).batch_job_running !== 1 && Date.now() < deadline) await sleep(50);
        const during = await group(name);
        expect(during.batch_job_running).toBe(1);
        expect(during.batch_job_success).toBe(1);
        expect(during.batch_job_last_success_timestamp_seconds).toBe(before.batch_job_last_success_timestamp_seconds);
        expect(during.push_time_seconds).toBeGreaterThan(before.push_time_seconds);
        run.child.stdin.end('go\n');
        expect((await run.result).code).toBe(4);
        const after = await group(name);
        expect(after).toMatchObject({ batch_job_running: 0, batch_job_success: 0, batch_job_exit_code: 4 });
        expect(after.batch_job_last_success_timestamp_seconds).toBe(before.batch_job_last_success_timestamp_seconds);
      });

      test('empty and repeated PUSHGATEWAY_URLS entries name no target: one push each, delivered at once', async () => {
        // A Pushgateway of its own, whose push count is this run's alone.
        const own = await startPushgateway(binary!);
        try {
          const r = await launch(shell, ['true'], { PUSHGATEWAY_URLS: `${own.url},,${own.url}/, ,`, BATCH_JOB_NAME: 'urls' }).result;
          // A bogus target would be retried after the delivery and named on stderr.
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(await pushedValue(own.url, 'urls', 'batch_job_success')).toBe(1);
          // The run start and the result, once each.
          const text = await (await fetch(`${own.url}/metrics`)).text();
          expect(/pushgateway_http_requests_total\{code="200",handler="push",method="post"\} (\d+)/.exec(text)?.[1]).toBe('2');
        } finally {
          await own.stop();
        }
      });

      // BusyBox sh runs its own date applet before any `date` on PATH: the step is shown in dash and
      // bash; in BusyBox sh, that both clocks are read.
      const stepped = shell.client !== 'busybox';
      describe(stepped ? 'a wall clock stepped back an hour during the run' : 'the clocks read', () => {
        /**
         * A `date` earlier on PATH that reads the wall clock minus the seconds in a file the
         * command writes, and the command that steps it back; one of each per test.
         */
        function fakeClock(name: string) {
          const fakeBin = fs.mkdtempSync(path.join(tmp, `${name}-`));
          const offset = path.join(fakeBin, 'offset');
          const realDate = spawnSync('sh', ['-c', 'command -v date'], { encoding: 'utf8' }).stdout.trim();
          fs.writeFileSync(path.join(fakeBin, 'date'), [
            '#!/bin/sh',
            'off=0',
            `[ -f ${offset} ] && read -r off < ${offset}`,
            `now=$(( $(${realDate} +%s) - off ))`,
            'case "$1" in',
            '  +%s%N) echo "${now}000000000" ;;',
            '  +%s) echo "$now" ;;',
            `  *) exec ${realDate} "$@" ;;`,
            'esac',
            '',
          ].join('\n'), { mode: 0o755 });
          return { fakeBin, stepBack: ['sh', '-c', `echo 3600 > ${offset}; sleep 1`] };
        }

        test('with /proc/uptime: the duration is the real one', async () => {
          const name = job('clock-uptime');
          const { fakeBin, stepBack } = fakeClock(name);
          const r = await launch(shell, stepBack, env(name), { path: fakeBin }).result;
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          const m = await group(name);
          expect(m.batch_job_duration_seconds).toBeGreaterThanOrEqual(1);
          expect(m.batch_job_duration_seconds).toBeLessThan(30);
          expect(m.batch_job_success).toBe(1);
        });

        test('without /proc/uptime (masked in a mount namespace): never below 0, pushed', async () => {
          const name = job('clock-no-uptime');
          const { fakeBin, stepBack } = fakeClock(name);
          const prefix = [unshare!, '--user', '--map-root-user', '--mount', 'sh', '-c', `${mount} --bind /dev/null /proc/uptime && exec "$0" "$@"`];
          const r = await launch(shell, stepBack, env(name), { path: fakeBin, prefix }).result;
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          const m = await group(name);
          if (stepped) expect(m.batch_job_duration_seconds).toBe(0);
          else expect(m.batch_job_duration_seconds).toBeGreaterThanOrEqual(1);
          expect(m.batch_job_success).toBe(1);
        });
      });
    });
  }
});

// Each test has its own port and job: they run side by side, so the suite waits for one outage, not three.
describe.skipIf(!binary)('push-metrics.sh while the Pushgateway is away', { concurrent: true }, () => {
  // Longer than the run start push's bound (3 s), so that the result push meets the outage too.
  const outages = CLIENTS.map((client) => ({ client, seconds: client === 'curl' ? 10 : 6 }));
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

// Each run waits for the grace after its delivery: side by side, the suite waits once.
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
