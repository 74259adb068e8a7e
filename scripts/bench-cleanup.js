#!/usr/bin/env node
'use strict';
// npm run bench:cleanup: pushgateway-cleanup against the simplest loop that does the same work
// (one GET /metrics, its push_time_seconds lines, then the same DELETEs at the same concurrency), on Debian's real
// prometheus-pushgateway with 10,000 groups, half of them stale. Rounds alternate between the two;
// each round starts from a wiped Pushgateway. Writes docs/benchmarks.md.

const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { writeSection } = require('./bench/benchmarks-file');

const GROUPS = Number(process.env.BENCH_GROUPS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 4;
const MAX_AGE_SECONDS = 20;
const ROOT = path.join(__dirname, '..');
const PROGRAM = path.join(ROOT, 'lib', 'cleanup', 'pushgateway-cleanup.js');
// Reports the peak resident set of the measured process when it exits.
const MAXRSS = 'data:text/javascript,process.on("exit",()=>process.stderr.write("MAXRSS_KB="+process.resourceUsage().maxRSS+"\\n"))';

// The floors: no options, no checks, no retries, no output per group. Once with fetch, once with
// node:http and a keep-alive agent (what the program uses), so that neither client's cost hides.
// The push_time_seconds lines of /metrics as groups: { labels, time }.
const PARSE = `
const groupsOf = (text) => text.split('\\n').filter((l) => l.startsWith('push_time_seconds{')).map((l) => ({
  labels: Object.fromEntries([...l.slice(0, l.lastIndexOf('}')).matchAll(/(\\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
  time: Number(l.slice(l.lastIndexOf(' ') + 1)),
}));
const pathOf = (g) => '/metrics/job/' + g.labels.job + Object.keys(g.labels).filter((k) => k !== 'job').map((k) => '/' + k + '/' + g.labels[k]).join('');
`;

const FLOOR_FETCH = `${PARSE}
const [url, maxAge, concurrency] = process.argv.slice(1);
(async () => {
  const res = await fetch(url + '/metrics');
  const now = Date.now() / 1000;
  const stale = groupsOf(await res.text()).filter((g) => now - g.time > Number(maxAge)).map(pathOf);
  let next = 0;
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
    while (next < stale.length) await (await fetch(url + stale[next++], { method: 'DELETE' })).arrayBuffer();
  }));
  console.log('deleted', stale.length);
})();
`;

const FLOOR_HTTP = `${PARSE}
const http = require('node:http');
const [url, maxAge, concurrency] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const call = (method, p) => new Promise((resolve, reject) => {
  http.request(url + p, { method, agent }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString()));
  }).on('error', reject).end();
});
(async () => {
  const body = await call('GET', '/metrics');
  const now = Date.now() / 1000;
  const stale = groupsOf(body).filter((g) => now - g.time > Number(maxAge)).map(pathOf);
  let next = 0;
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
    while (next < stale.length) await call('DELETE', stale[next++]);
  }));
  agent.destroy();
  console.log('deleted', stale.length);
})();
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pushAll(url, paths) {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < paths.length) {
      const p = paths[next++];
      const res = await fetch(`${url}/metrics/${p}`, { method: 'PUT', body: 'bench_value 1\nbench_records 42\n' });
      if (!res.ok) throw new Error(`push ${p}: HTTP ${res.status}`);
      await res.arrayBuffer();
    }
  }));
}

async function groupCount(url) {
  const json = await (await fetch(`${url}/api/v1/metrics`)).json();
  return json.data.length;
}

async function waitForCount(url, count) {
  // Pushes without the consistency check are queued (202): wait until the store has them all.
  for (let i = 0; i < 600; i++) {
    if ((await groupCount(url)) === count) return;
    await sleep(100);
  }
  throw new Error(`the Pushgateway never reached ${count} groups`);
}

function measure(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', MAXRSS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = /MAXRSS_KB=(\d+)/.exec(stderr);
      if (code !== 0 || !rss) reject(new Error(`exit ${code}: ${stderr}\n${stdout.slice(-500)}`));
      else resolve({ seconds, mib: Number(rss[1]) / 1024 });
    });
  });
}

async function main() {
  const binary = execFileSync('sh', ['-c', 'command -v prometheus-pushgateway'], { encoding: 'utf8' }).trim();
  const version = execFileSync('sh', ['-c', `"${binary}" --version 2>&1 | head -1`], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const pgw = spawn(binary, [
    `--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--web.enable-admin-api', '--push.disable-consistency-check',
  ], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      try { if ((await fetch(`${url}/-/ready`)).ok) break; } catch { /* not up yet */ }
      await sleep(100);
    }
    const half = GROUPS / 2;
    // Per-run job_id groups with an instance: the shape the cleanup exists for.
    const stale = Array.from({ length: half }, (_, i) => `job/bench-${i % 50}/job_id/run-${i}/instance/stale`);
    const fresh = Array.from({ length: half }, (_, i) => `job/bench-${i % 50}/job_id/run-${i}/instance/fresh`);
    const contestants = {
      'pushgateway-cleanup': [PROGRAM, '--url', url, '--max-age', `${MAX_AGE_SECONDS}s`, '--concurrency', String(CONCURRENCY)],
      'floor: fetch loop': ['-e', FLOOR_FETCH, url, String(MAX_AGE_SECONDS), String(CONCURRENCY)],
      'floor: node:http loop': ['-e', FLOOR_HTTP, url, String(MAX_AGE_SECONDS), String(CONCURRENCY)],
    };
    const results = Object.fromEntries(Object.keys(contestants).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(contestants)) {
        await fetch(`${url}/api/v1/admin/wipe`, { method: 'PUT' });
        await waitForCount(url, 0);
        await pushAll(url, stale);
        await waitForCount(url, half);
        await sleep((MAX_AGE_SECONDS + 1) * 1000);
        await pushAll(url, fresh);
        await waitForCount(url, GROUPS);
        const result = await measure(args);
        const left = await groupCount(url);
        if (left !== half) throw new Error(`${name} left ${left} groups, expected ${half}`);
        results[name].push(result);
        process.stderr.write(`round ${round + 1} ${name}: ${result.seconds.toFixed(2)} s, ${result.mib.toFixed(1)} MiB\n`);
      }
    }
    writeReport(results, version);
  } finally {
    pgw.kill('SIGTERM');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function writeReport(results, version) {
  const [program, ...floors] = Object.keys(results);
  const wall = (name) => median(results[name].map((x) => x.seconds));
  const floor = floors.reduce((a, b) => (wall(a) <= wall(b) ? a : b));
  const row = (name) => {
    const r = results[name];
    return `| ${name} | ${median(r.map((x) => x.seconds)).toFixed(2)} | ${r.map((x) => x.seconds.toFixed(2)).join(', ')} | ${median(r.map((x) => x.mib)).toFixed(1)} |`;
  };
  const ratio = median(results[program].map((x) => x.seconds)) / median(results[floor].map((x) => x.seconds));
  const peak = Math.max(...results[program].map((x) => x.mib));
  const text = `# Benchmarks

## pushgateway-cleanup (\`npm run bench:cleanup\`)

${GROUPS.toLocaleString('en')} groups on Debian's real Pushgateway, ${(GROUPS / 2).toLocaleString('en')} of them stale; every
contestant reads \`GET /metrics\` (its \`push_time_seconds\` lines) and deletes the ${(GROUPS / 2).toLocaleString('en')} stale groups with
${CONCURRENCY} DELETEs in flight. Median of ${ROUNDS} alternating rounds.

| contestant | wall time, median (s) | every round (s) | peak RSS, median (MiB) |
| --- | --- | --- | --- |
${[program, ...floors].map(row).join('\n')}

- Program / faster floor (${floor}) wall time: **${ratio.toFixed(2)}x** (goal: at most 1.5x).
- Program peak memory: **${peak.toFixed(1)} MiB** at most (goal: under 150 MiB; the CronJob's default limit is 192Mi).

Method: \`scripts/bench-cleanup.js\` starts \`prometheus-pushgateway\` on 127.0.0.1 (in memory,
\`--web.enable-admin-api\` to wipe between rounds, \`--push.disable-consistency-check\` only so that
seeding 10,000 groups does not take minutes; neither changes how GET and DELETE are served). Each
round wipes the store, pushes the stale half (groups \`{job="bench-N",job_id="run-M",instance="stale"}\`
with two metrics each), waits past the max age (${MAX_AGE_SECONDS} s), pushes the fresh half, and then
runs one contestant as a child process, timing it from spawn to exit (Node start-up included for
all) and reading its peak RSS from \`process.resourceUsage().maxRSS\` at exit. After each run the
script checks that exactly the fresh half is left. The floors are the simplest loop that does the same
work: one request for \`/metrics\`, its \`push_time_seconds\` lines split by a regular expression, a filter on their value, and ${CONCURRENCY} workers sending
DELETEs, with no encoding, validation, retries, timeouts or per-group output; once with \`fetch\` and once
with \`node:http\` and a keep-alive agent (the client the program uses). The ratio is taken against the
faster of the two. The program additionally streams and parses the text format exactly (escapes,
\`batch_job_success\` lines), reads the push times again every 5 s, prints one line per deleted group,
sorts by age, and checks every answer. Reading again is what bounds the race window, and what the
floors skip: on a busy machine each reading of 10,000 groups takes seconds, which is most of the gap.

Machine: ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()},
Node.js ${process.version}, ${version}; shared with other work while it ran, so the absolute times
are noisy: the rounds alternate to spread that noise over the contestants, and the ratio moves by
a tenth or two from one run to the next.
`;
  const file = writeSection('## pushgateway-cleanup', text.slice(text.indexOf('## ')));
  process.stdout.write(`${text}\nwritten to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench-cleanup: ${e.stack || e}\n`);
  process.exitCode = 1;
});
