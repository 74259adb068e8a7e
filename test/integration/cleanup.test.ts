import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { freePort, startProcess, startPushgateway, waitForHttp } from '../helpers/processes';

const PROGRAM = path.join(__dirname, '..', '..', 'lib', 'cleanup', 'pushgateway-cleanup.js');
const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');
// Debian's build defaults --persistence.file to a shared file under /var/lib/prometheus: keep tests in memory.
const IN_MEMORY = ['--persistence.file='];
const MAX_AGE_SECONDS = 5;

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs the program as a child process (asynchronously: the fault-injecting proxy lives in this process). */
function runCleanup(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PROGRAM, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function push(base: string, groupPath: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${base}/metrics/${groupPath}`, { method: 'PUT', body: 'cleanup_test_value 1\n', headers });
  if (!res.ok) throw new Error(`push to ${groupPath}: HTTP ${res.status} ${await res.text()}`);
}

/** The groups on the Pushgateway, each as sorted `name=value` pairs, sorted. */
async function groups(base: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/metrics`, { headers });
  const json = (await res.json()) as { data: Array<{ labels: Record<string, string> }> };
  return json.data
    .map((g) => Object.keys(g.labels).sort().map((k) => `${k}=${g.labels[k]}`).join(','))
    .sort();
}

/** The newest push time (the Pushgateway's clock, Unix seconds) among the groups `select` picks. */
async function lastPush(base: string, select: (labels: Record<string, string>) => boolean = () => true, headers: Record<string, string> = {}): Promise<number> {
  const json = (await (await fetch(`${base}/api/v1/metrics`, { headers })).json()) as { data: Array<Record<string, any>> };
  return Math.max(...json.data.filter((g) => select(g.labels)).map((g) => Number(g.push_time_seconds.metrics[0].value)));
}

/**
 * The cleanup measures ages from --now, not from a clock: which group is old is then decided by
 * the order of the pushes alone, never by how long the machine took between a push and the run.
 * Groups pushed up to `oldBy` are more than a whole second past `maxAgeSeconds` at this time, and
 * groups pushed GAP_MS after `oldBy` or later are younger than `maxAgeSeconds`.
 */
const GAP_MS = 1100;
const nowAfter = (oldBy: number, maxAgeSeconds: number) => String(oldBy + maxAgeSeconds + 1.05);

async function scrape(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Pushed first: older than MAX_AGE_SECONDS at the --now of the runs; encoded by hand, not by the program.
const OLD: Array<[path: string, key: string]> = [
  ['job/old-plain', 'job=old-plain'],
  ['job/old-instance/instance/host-1', 'instance=host-1,job=old-instance'],
  ['job/old-multi/env/prod/instance/x/tenant/a', 'env=prod,instance=x,job=old-multi,tenant=a'],
  ['job/old-slash/path@base64/L3Zhci90bXA', 'job=old-slash,path=/var/tmp'],
  ['job/old-empty/first@base64/=/second/foo', 'first=,job=old-empty,second=foo'],
  ['job@base64/dGVhbS9ldGw', 'job=team/etl'],
  ['job/old-unicode/instance/%C3%A9t%C3%A9', 'instance=été,job=old-unicode'],
  ['job/etl/job_id/run-1', 'job=etl,job_id=run-1'],
  ['job/etl/job_id/run-2', 'job=etl,job_id=run-2'],
];
const OLD_EXCLUDED: Array<[string, string]> = [['job/keep/instance/a', 'instance=a,job=keep']];
const FRESH: Array<[string, string]> = [
  ['job/fresh-plain', 'job=fresh-plain'],
  ['job/old-instance/instance/host-2', 'instance=host-2,job=old-instance'],
  ['job/etl/job_id/run-3', 'job=etl,job_id=run-3'],
];

describe.skipIf(!binary)('pushgateway-cleanup against the real Pushgateway', () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let now: string;

  beforeAll(async () => {
    pgw = await startPushgateway(binary!, IN_MEMORY);
    for (const [p] of [...OLD, ...OLD_EXCLUDED]) await push(pgw.url, p);
    now = nowAfter(await lastPush(pgw.url), MAX_AGE_SECONDS);
    await sleep(GAP_MS);
    for (const [p] of FRESH) await push(pgw.url, p);
  });
  afterAll(async () => pgw?.stop());

  const all = () => [...OLD, ...OLD_EXCLUDED, ...FRESH].map(([, key]) => key).sort();
  const common = () => ['--url', pgw.url, '--max-age', `${MAX_AGE_SECONDS}s`, '--now', now];

  it('the Pushgateway holds every group as pushed', async () => {
    expect(await groups(pgw.url)).toEqual(all());
  });

  it('a dry run deletes nothing and names exactly the old groups', async () => {
    const result = await runCleanup([...common(), '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const named = report.groups.map((g: any) => Object.keys(g.labels).sort().map((k) => `${k}=${g.labels[k]}`).join(',')).sort();
    expect(named).toEqual([...OLD, ...OLD_EXCLUDED].map(([, key]) => key).sort());
    expect(report.groups.every((g: any) => g.action === 'would-delete' && g.ageSeconds > MAX_AGE_SECONDS)).toBe(true);
    expect(report).toMatchObject({ dryRun: true, listed: all().length, fresh: FRESH.length, deleted: 0, exitCode: 0 });
    expect(await groups(pgw.url)).toEqual(all());
  });

  it('a real run deletes exactly the old groups, keeps excluded jobs, and pushes its own metrics', async () => {
    const result = await runCleanup([...common(), '--exclude-job', 'keep', '--push-metrics']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('deleted '))).toHaveLength(OLD.length);
    expect(lines.some((l) => l.startsWith('deleted {job="old-empty",first="",second="foo"} (last push '))).toBe(true);
    expect(lines.some((l) => l.startsWith('deleted {job="team/etl"} (last push '))).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`${OLD.length} deleted, 0 failed; kept ${FRESH.length} fresh, 0 newest of declared jobs, 1 excluded, 0 undated$`));

    const left = await groups(pgw.url);
    expect(left).toEqual([...OLD_EXCLUDED, ...FRESH].map(([, key]) => key).concat('job=pushgateway-cleanup').sort());
    const metrics = await scrape(pgw.url);
    expect(metrics).toContain('batch_job_success{instance="",job="pushgateway-cleanup"} 1');
    expect(metrics).toContain(`batch_job_records_processed{instance="",job="pushgateway-cleanup"} ${OLD.length}`);
    expect(metrics).toMatch(/batch_job_last_success_timestamp_seconds\{instance="",job="pushgateway-cleanup"\} \d/);
  });

  it('a second run finds nothing more to delete', async () => {
    const result = await runCleanup([...common(), '--exclude-job', 'keep']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/: 0 deleted, 0 failed;/);
  });
});

describe.skipIf(!binary)('pushgateway-cleanup with an expiring listing', () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let now: string;

  beforeAll(async () => {
    pgw = await startPushgateway(binary!, IN_MEMORY);
    for (let i = 0; i < 20; i++) await push(pgw.url, `job/per-run/job_id/run-${i}`);
    now = nowAfter(await lastPush(pgw.url), 2);
    await sleep(GAP_MS);
    await push(pgw.url, 'job/per-run/job_id/run-fresh');
  });
  afterAll(async () => pgw?.stop());

  it('lists again when the listing gets old, still deletes every stale group, and never a fresh one', async () => {
    const result = await runCleanup(['--url', pgw.url, '--max-age', '2s', '--now', now, '--relist-after', '1ms', '--concurrency', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/20 deleted, 0 failed; kept 1 fresh, 0 newest of declared jobs, 0 excluded, 0 undated; read again \d+ time\(s\)$/m);
    expect(await groups(pgw.url)).toEqual(['job=per-run,job_id=run-fresh']);
  });
});

describe.skipIf(!binary)('pushgateway-cleanup with basic auth', () => {
  // A bcrypt hash (cost 10) of the test-only password below, made with Python's crypt module.
  const PASSWORD = 'cleanup-test-password';
  const HASH = '$2b$10$brMqbcXXOYkmmkF9OKSODOjPJuxoJtIP9UQ4pUwcrsrFTBovKbvYa';
  const auth = { authorization: `Basic ${Buffer.from(`cleanup:${PASSWORD}`).toString('base64')}` };
  let dir: string;
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let now: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanup-auth-'));
    const webConfig = path.join(dir, 'web.yml');
    fs.writeFileSync(webConfig, `basic_auth_users:\n  cleanup: ${HASH}\n`);
    // The readiness probe needs credentials too: start without them, then wait with them.
    pgw = await startPushgatewayWithAuth(binary!, [...IN_MEMORY, `--web.config.file=${webConfig}`], auth);
    await push(pgw.url, 'job/old-secured', auth);
    now = nowAfter(await lastPush(pgw.url, () => true, auth), 1);
  });
  afterAll(async () => {
    await pgw?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('deletes with the right password from the environment', async () => {
    const result = await runCleanup(['--url', pgw.url, '--max-age', '1s', '--now', now], { PUSHGATEWAY_USERNAME: 'cleanup', PUSHGATEWAY_PASSWORD: PASSWORD });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('deleted {job="old-secured"}');
    expect(await groups(pgw.url, auth)).toEqual([]);
  });

  it('exits 3 with a wrong password, naming the URL and the cause', async () => {
    const result = await runCleanup(['--url', pgw.url, '--max-age', '1s'], { PUSHGATEWAY_USERNAME: 'cleanup', PUSHGATEWAY_PASSWORD: 'wrong' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot read the Pushgateway: GET ${pgw.url}/metrics: HTTP 401`);
    expect(result.stderr).toContain('check PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD');
  });

  it('exits 3 without credentials', async () => {
    const result = await runCleanup(['--url', pgw.url, '--max-age', '1s']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('HTTP 401');
  });
});

describe.skipIf(!binary)('pushgateway-cleanup when the Pushgateway fails', () => {
  let pgw: Awaited<ReturnType<typeof startPushgateway>>;
  let proxy: http.Server;
  let proxyUrl: string;
  const deletes: string[] = [];
  let flakyFailures = 0;
  let now: string;

  beforeAll(async () => {
    pgw = await startPushgateway(binary!, IN_MEMORY);
    // Forwards everything to the Pushgateway, except: DELETEs of `broken` groups always get 503,
    // the first DELETE of the `flaky` group gets 502, and GETs under /html answer a web page.
    proxy = http.createServer((req, res) => {
      if (req.url!.startsWith('/html/')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not the API</html>');
        return;
      }
      // /slow/metrics: the Pushgateway's answer in 8 pieces, 300 ms apart; /stall/metrics: headers, then nothing.
      if (req.url === '/slow/metrics' || req.url === '/stall/metrics') {
        fetch(`${pgw.url}/metrics`).then((r) => r.text()).then(async (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          if (req.url === '/stall/metrics') return;
          const size = Math.ceil(text.length / 8);
          for (let i = 0; i < text.length; i += size) {
            res.write(text.slice(i, i + size));
            await sleep(300);
          }
          res.end();
        });
        return;
      }
      if (req.method === 'DELETE') {
        deletes.push(req.url!);
        if (req.url!.includes('/broken')) {
          res.writeHead(503).end('injected failure');
          return;
        }
        if (req.url!.includes('/flaky') && flakyFailures++ === 0) {
          res.writeHead(502).end('injected once');
          return;
        }
      }
      const upstream = http.request(`${pgw.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (e) => res.writeHead(500).end(String(e)));
      req.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${port}`;

    for (const p of ['job/broken/instance/a', 'job/broken/instance/b', 'job/flaky', 'job/fine-1', 'job/fine-2']) await push(pgw.url, p);
    now = nowAfter(await lastPush(pgw.url), 1);
  });
  afterAll(async () => {
    await new Promise((r) => proxy?.close(r));
    await pgw?.stop();
  });

  it('exits 1 when some deletes fail, after retrying, and deletes the rest', async () => {
    const result = await runCleanup(['--url', proxyUrl, '--max-age', '1s', '--now', now, '--retries', '2', '--push-metrics']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`failed to delete {job="broken",instance="a"}: DELETE ${proxyUrl}/metrics/job/broken/instance/a: HTTP 503: injected failure`);
    expect(result.stderr).toContain('failed to delete {job="broken",instance="b"}');
    expect(result.stdout).toContain('deleted {job="flaky"}');
    expect(result.stdout).toMatch(/3 deleted, 2 failed;/);
    // Each broken group: the first try and 2 retries.
    expect(deletes.filter((d) => d === '/metrics/job/broken/instance/a')).toHaveLength(3);
    expect(deletes.filter((d) => d === '/metrics/job/flaky')).toHaveLength(2);
    expect(await groups(pgw.url)).toEqual(['instance=a,job=broken', 'instance=b,job=broken', 'job=pushgateway-cleanup']);

    const metrics = await scrape(pgw.url);
    expect(metrics).toContain('batch_job_success{instance="",job="pushgateway-cleanup"} 0');
    expect(metrics).toContain('batch_job_errors_total{instance="",job="pushgateway-cleanup"} 2');
    expect(metrics).not.toContain('batch_job_last_success_timestamp_seconds');
  });

  it('reads an answer that streams for longer than --timeout, and fails one that stalls for longer', async () => {
    const slow = await runCleanup(['--url', `${proxyUrl}/slow`, '--max-age', '7d', '--timeout', '1s', '--retries', '0', '--dry-run']);
    expect(slow.code, slow.stderr).toBe(0);
    const stalled = await runCleanup(['--url', `${proxyUrl}/stall`, '--max-age', '7d', '--timeout', '1s', '--retries', '0', '--dry-run']);
    expect(stalled.code).toBe(3);
    expect(stalled.stderr).toContain(`GET ${proxyUrl}/stall/metrics: nothing received for 1000 ms (--timeout)`);
  });

  it('exits 3 on an answer that is not the API', async () => {
    const result = await runCleanup(['--url', `${proxyUrl}/html`, '--max-age', '1s']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`GET ${proxyUrl}/html/metrics: the answer has no pushgateway_build_info`);
  });

  it('exits 3 when the Pushgateway is stopped, naming the URL and the cause', async () => {
    const stopped = await startPushgateway(binary!, IN_MEMORY);
    await stopped.stop();
    const result = await runCleanup(['--url', stopped.url, '--max-age', '1s', '--retries', '1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot read the Pushgateway: GET ${stopped.url}/metrics: connect ECONNREFUSED`);
    expect(result.stdout).toContain('nothing deleted');
  });
});

/** startPushgateway waits for /-/ready without credentials, which basic auth refuses: wait with them. */
async function startPushgatewayWithAuth(bin: string, args: string[], headers: Record<string, string>) {
  const port = await freePort();
  const proc = startProcess(bin, [...args, `--web.listen-address=127.0.0.1:${port}`]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000, headers);
  return { ...proc, url, port };
}

describe.skipIf(!binary)('pushgateway-cleanup on several replicas', () => {
  let a: Awaited<ReturnType<typeof startPushgateway>>;
  let b: Awaited<ReturnType<typeof startPushgateway>>;
  let down: Awaited<ReturnType<typeof startPushgateway>>;
  let now: string;

  beforeAll(async () => {
    [a, b, down] = await Promise.all([0, 1, 2].map(() => startPushgateway(binary!, IN_MEMORY)));
    await down.stop();
    // Each replica has groups of its own: one only A has, one only B has, one both have.
    for (const p of ['job/old-a', 'job/old-shared']) await push(a.url, p);
    for (const p of ['job/old-b', 'job/old-shared']) await push(b.url, p);
    now = nowAfter(Math.max(await lastPush(a.url), await lastPush(b.url)), 1);
    await sleep(GAP_MS);
    for (const base of [a.url, b.url]) await push(base, 'job/fresh');
  });
  afterAll(async () => Promise.all([a?.stop(), b?.stop()]));

  it('cleans the replica that answers, names the one that is down, exits 1, pushes its metrics where it can', async () => {
    const result = await runCleanup(['--max-age', '1s', '--now', now, '--retries', '1', '--push-metrics'], { PUSHGATEWAY_URLS: `${down.url},${a.url}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`pushgateway-cleanup: ${down.url}: cannot read the Pushgateway: GET ${down.url}/metrics: connect ECONNREFUSED`);
    expect(result.stderr).toContain(`pushgateway-cleanup: ${down.url}: cannot push the run's metrics`);
    expect(result.stdout).toContain(`${a.url}: deleted {job="old-a"}`);
    expect(result.stdout).toContain(`nothing deleted: the Pushgateway at ${down.url} could not be read`);
    expect(result.stdout).toContain(`pushgateway-cleanup: ${a.url}: 3 groups listed, 2 older than 1s, 0 superseded: 2 deleted, 0 failed;`);
    expect(await groups(a.url)).toEqual(['job=fresh', 'job=pushgateway-cleanup']);
    // B was not asked: its groups are untouched.
    expect(await groups(b.url)).toEqual(['job=fresh', 'job=old-b', 'job=old-shared']);
    const metrics = await scrape(a.url);
    expect(metrics).toContain('batch_job_success{instance="",job="pushgateway-cleanup"} 0');
    expect(metrics).toContain('batch_job_records_processed{instance="",job="pushgateway-cleanup"} 2');
  });

  it('lists and deletes on every replica on its own (--url repeated), one JSON report per replica', async () => {
    const result = await runCleanup(['--url', b.url, '--url', a.url, '--max-age', '1s', '--now', now, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.exitCode).toBe(0);
    expect(report.replicas.map((r: any) => [r.url, r.deleted, r.exitCode])).toEqual([[b.url, 2, 0], [a.url, 0, 0]]);
    expect(report.replicas[0].groups.map((g: any) => g.labels.job)).toEqual(['old-b', 'old-shared']);
    expect(await groups(b.url)).toEqual(['job=fresh']);
  });

  it('exits 3 when no replica can be read', async () => {
    const other = await startPushgateway(binary!, IN_MEMORY);
    await other.stop();
    const result = await runCleanup(['--url', down.url, '--url', other.url, '--max-age', '1s', '--retries', '0']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${down.url}: cannot read the Pushgateway`);
    expect(result.stderr).toContain(`${other.url}: cannot read the Pushgateway`);
  });
});
