// npm run bench:rules (also the last part of npm run bench): what the library's alert rules cost a
// real Prometheus per evaluation cycle, against the naive per-job rules, side by side in one
// Prometheus on backfilled Pushgateway history, for 100, 1000 and 10,000 jobs (BENCH_RULE_JOBS),
// with the Prometheus's RSS and the rule groups. The history reaches as far back as any rule reads;
// the job counts in BENCH_RULE_WEEK_JOBS run a second time on a week of it, to show that the
// older samples change nothing. Rewrites only its own section of docs/benchmarks.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startPrometheus } from '../test/helpers/processes';
import { backfillHistory, SCRAPE_SECONDS, startLivePushgateway } from './bench/pushgateway-history';
import { fleet, FleetJob, INTERVAL_CLASSES, IntervalClass, jobOfRule, libraryRules, naiveRules, RuleGroup } from './bench/rule-fleet';

const { writeSection } = require('./bench/benchmarks-file') as { writeSection(heading: string, text: string): string };

const ROOT = path.join(__dirname, '..');
const HEADING = '## Alert rule cost';
const counts = (text: string) => text.split(',').filter(Boolean).map(Number);
const JOB_COUNTS = counts(process.env.BENCH_RULE_JOBS ?? '100,1000,10000');
const WEEK_JOB_COUNTS = counts(process.env.BENCH_RULE_WEEK_JOBS ?? '100');
// A week plus the weekly jobs' grace (2h) plus a bit: the longest a weekly job's data can matter.
const WEEK_SECONDS = 7 * 86_400 + 4 * 3600;
// Prometheus's default lookback delta: an instant selector reads this far back.
const LOOKBACK_SECONDS = 300;
// kube-prometheus's (prometheus-operator's default).
const EVALUATION_INTERVAL_SECONDS = 30;
// Right after start, reading the backfilled blocks the first time, cycles take far longer.
const WARM_UP_CYCLES = 4;
const MEASURED_CYCLES = 6;
const QUERY_CONCURRENCY = 2;

process.env.PATH = `${path.join(ROOT, '.cache', 'debian-unstable', 'root', 'usr', 'bin')}${path.delimiter}${process.env.PATH ?? ''}`;

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface SetCost {
  /** Samples per job per cycle by interval class: the rules about the job, plus an even share of the rules about no single job. */
  perJob: Record<IntervalClass, number>;
  /** Samples per cycle of the rules about no single job, all together. */
  shared: number;
  total: number;
}

/** See `selfReads`. */
interface SelfReads {
  perJob: number;
  windows: string[];
}

interface Run {
  jobs: number;
  /** Seconds of backfilled history before Prometheus starts. */
  historySeconds: number;
  /** How far back the rules read (`deepestRead`). */
  deepestReadSeconds: number;
  samples: number;
  backfillSeconds: number;
  library: SetCost;
  naive: SetCost;
  /** Evaluation seconds per cycle, summed over each set's groups, one entry per measured cycle. */
  evaluation: { library: number[]; naive: number[] };
  missedIterations: number;
  selfReads: SelfReads;
  groups: { library: number; naive: number };
  /** The library's largest rule group, in rules. */
  maxRulesPerGroup: number;
  /** Prometheus's resident memory at the end of the measured cycles (both sets loaded). */
  rssBytes: number;
}

/** A metric of Prometheus's own /metrics without labels, e.g. `process_resident_memory_bytes`. */
async function ownMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`Prometheus does not report ${name}`);
  return Number(m[1]);
}

/**
 * The `prometheus_rule_...{rule_group="<file>;<group>"}` metrics from Prometheus's own /metrics, by
 * group name, e.g. `group_last_duration_seconds`.
 */
async function groupMetrics(url: string): Promise<Map<string, Record<string, number>>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const groups = new Map<string, Record<string, number>>();
  for (const m of text.matchAll(/^prometheus_rule_(\w+)\{rule_group="[^"]*;([^"]*)"\} (\S+)$/gm)) {
    const group = groups.get(m[2]) ?? {};
    group[m[1]] = Number(m[3]);
    groups.set(m[2], group);
  }
  return groups;
}

async function query(url: string, expr: string, time: number): Promise<any> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, time: String(time), stats: 'all' }),
  });
  const json: any = await res.json();
  if (json.status !== 'success') throw new Error(`query failed (${json.error}): ${expr}`);
  return json.data;
}

/**
 * (b) Evaluation time: Prometheus evaluates both sets' groups on its own schedule; after a warm-up,
 * once per cycle, each set's `prometheus_rule_group_last_duration_seconds`, scaled to the global
 * interval for a group that sets its own, summed over its groups.
 */
async function measureEvaluation(url: string, library: RuleGroup[], naive: RuleGroup[]) {
  const libraryNames = new Set(library.map((g) => g.name));
  const naiveNames = new Set(naive.map((g) => g.name));
  await sleep((WARM_UP_CYCLES + 1) * EVALUATION_INTERVAL_SECONDS * 1000);
  const evaluation = { library: [] as number[], naive: [] as number[] };
  let metrics = await groupMetrics(url);
  for (let cycle = 0; cycle < MEASURED_CYCLES; cycle++) {
    if (cycle > 0) {
      await sleep(EVALUATION_INTERVAL_SECONDS * 1000);
      metrics = await groupMetrics(url);
    }
    const sum = (names: Set<string>) => [...names].reduce((total, name) => {
      const g = metrics.get(name);
      if (!g || !(g.group_last_evaluation_timestamp_seconds > 0)) throw new Error(`rule group ${name} has not been evaluated`);
      return total + g.group_last_duration_seconds * (EVALUATION_INTERVAL_SECONDS / g.group_interval_seconds);
    }, 0);
    evaluation.library.push(sum(libraryNames));
    evaluation.naive.push(sum(naiveNames));
    log(`  cycle ${cycle + 1}/${MEASURED_CYCLES}: library ${evaluation.library.at(-1)!.toFixed(3)} s, naive ${evaluation.naive.at(-1)!.toFixed(3)} s`);
  }
  const total = (key: string) => [...metrics.values()].reduce((sum, g) => sum + (g[key] ?? 0), 0);
  if (total('evaluation_failures_total') > 0) throw new Error(`${total('evaluation_failures_total')} rule evaluations failed`);
  return { evaluation, missedIterations: total('group_iterations_missed_total') };
}

/**
 * (a) Samples: each rule's expression as an instant query at `time` (one moment for all), with
 * `stats=all`; `totalQueryableSamples` is what it read.
 */
async function measureSamples(url: string, groups: RuleGroup[], jobs: FleetJob[], time: number): Promise<SetCost> {
  const names = new Set(jobs.map((j) => j.name));
  // A group that sets its own interval counts per cycle of the global interval, as in (b).
  const intervals = await groupIntervals(url);
  const rules = groups.flatMap((g) => g.rules.map((rule) => ({ rule, scale: EVALUATION_INTERVAL_SECONDS / intervals.get(g.name)! })));
  const byJob = new Map<string, number>();
  let shared = 0;
  let next = 0;
  await Promise.all(Array.from({ length: QUERY_CONCURRENCY }, async () => {
    while (next < rules.length) {
      const { rule, scale } = rules[next++];
      const samples = scale * (await query(url, rule.expr, time)).stats.samples.totalQueryableSamples;
      const job = jobOfRule(rule, names);
      if (job === undefined) shared += samples;
      else byJob.set(job, (byJob.get(job) ?? 0) + samples);
    }
  }));
  const perJob = Object.fromEntries(INTERVAL_CLASSES.map((c) => {
    const ofClass = jobs.filter((j) => j.intervalClass === c);
    return [c, ofClass.reduce((total, j) => total + (byJob.get(j.name) ?? 0), 0) / ofClass.length + shared / jobs.length];
  })) as Record<IntervalClass, number>;
  const total = shared + [...byJob.values()].reduce((a, b) => a + b, 0);
  return { perJob, shared, total };
}

/** Each loaded group's evaluation interval in seconds, by group name. */
async function groupIntervals(url: string): Promise<Map<string, number>> {
  const json: any = await (await fetch(`${url}/api/v1/rules`)).json();
  return new Map(json.data.groups.map((g: any) => [g.name, g.interval]));
}

/** Seconds of a Prometheus duration such as `1h30m`. */
function durationSeconds(text: string): number {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  return [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)].reduce((total, m) => total + Number(m[1]) * unit[m[2]], 0);
}

/**
 * What recording rules that read their own output over a window (`last_over_time(record[1h])`)
 * read in steady state beyond what this run sees, per job per cycle: the run lasts minutes, so such
 * a window holds only the records since Prometheus started. Per self-reference: the series it
 * selects at the end of the run, times the evaluations in its window.
 */
async function selfReads(url: string, groups: RuleGroup[], jobs: FleetJob[]): Promise<SelfReads> {
  const intervals = await groupIntervals(url);
  const windows = new Set<string>();
  let total = 0;
  for (const group of groups) {
    const interval = intervals.get(group.name)!;
    for (const rule of group.rules.filter((r) => r.record)) {
      const name = rule.record!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      for (const m of rule.expr.matchAll(new RegExp(`(?<![\\w:])${name}(\\{[^}]*\\})?\\[(\\w+)\\]`, 'g'))) {
        const series = Number((await query(url, `count(${rule.record}${m[1] ?? ''})`, Date.now() / 1000)).result[0]?.value[1] ?? 0);
        total += series * (durationSeconds(m[2]) / interval) * (EVALUATION_INTERVAL_SECONDS / interval);
        windows.add(m[2]);
      }
    }
  }
  return { perJob: total / jobs.length, windows: [...windows].sort() };
}

/**
 * How far back any rule of `groups` reads, in seconds: its longest range or subquery window plus its
 * longest `offset`, plus the lookback of an instant selector. No evaluation reads a sample older than
 * that, however long the history.
 */
function deepestRead(groups: RuleGroup[]): number {
  const longest = (expr: string, pattern: RegExp) => Math.max(0, ...[...expr.matchAll(pattern)].map((m) => durationSeconds(m[1])));
  return Math.max(...groups.flatMap((g) => g.rules.map((r) => longest(r.expr, /\[(\w+)(?::\w*)?\]/g) + longest(r.expr, /\boffset\s+(\w+)/g))))
    + LOOKBACK_SECONDS;
}

async function runFor(count: number, week: boolean): Promise<Run> {
  const jobs = fleet(count);
  const { groups: library, targetLabels } = libraryRules(jobs);
  const naive = naiveRules(jobs);
  const deepestReadSeconds = deepestRead([...library, ...naive]);
  const historySeconds = week ? WEEK_SECONDS : (Math.ceil(deepestReadSeconds / 3600) + 1) * 3600;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rules-'));
  const pushgateway = await startLivePushgateway(jobs);
  try {
    const dataDir = path.join(dir, 'data');
    const aligned = (t: number) => Math.floor(t / SCRAPE_SECONDS) * SCRAPE_SECONDS;
    const started = Date.now();
    const historyEnd = aligned(started / 1000);
    log(`${count} jobs: backfilling ${historySeconds / 3600} h of history ...`);
    let samples = await backfillHistory(dataDir, dir, pushgateway, targetLabels, historyEnd - historySeconds, historyEnd);
    // The scrapes since the backfill started, so that the history reaches the moment Prometheus
    // starts, and scrapes the rest live.
    const end = aligned(Date.now() / 1000);
    if (end > historyEnd) samples += await backfillHistory(dataDir, dir, pushgateway, targetLabels, historyEnd + SCRAPE_SECONDS, end);
    const backfillSeconds = (Date.now() - started) / 1000;
    log(`${count} jobs: ${samples.toLocaleString('en')} samples backfilled in ${backfillSeconds.toFixed(0)} s; starting Prometheus`);
    const prometheus = await startPrometheus('prometheus', dir, {
      global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${EVALUATION_INTERVAL_SECONDS}s` },
      // As kube-prometheus scrapes a Pushgateway through its ServiceMonitor (test/integration/end-to-end.test.ts).
      scrape_configs: [{
        job_name: targetLabels.service,
        honor_labels: true,
        static_configs: [{ targets: [pushgateway.address], labels: targetLabels }],
      }],
    }, [...library, ...naive]);
    try {
      log(`${count} jobs: (b) evaluation time, ${WARM_UP_CYCLES} cycles of warm-up, then ${MEASURED_CYCLES} cycles`);
      const { evaluation, missedIterations } = await measureEvaluation(prometheus.url, library, naive);
      const rssBytes = await ownMetric(prometheus.url, 'process_resident_memory_bytes');
      const librarySelfReads = await selfReads(prometheus.url, library, jobs);
      // The live scrapes went on: the naive rules saw every job.
      const seen = (await query(prometheus.url, 'count(batch_job_success)', Date.now() / 1000)).result[0]?.value[1];
      if (Number(seen) !== count) throw new Error(`the naive rules saw ${seen} of ${count} jobs: the live scrapes failed`);
      log(`${count} jobs: (a) samples per rule`);
      // Now, rather than at the end of the backfilled history, so that the records that rules read exist.
      const now = Math.floor(Date.now() / 1000);
      const libraryCost = await measureSamples(prometheus.url, library, jobs, now);
      const naiveCost = await measureSamples(prometheus.url, naive, jobs, now);
      return {
        jobs: count, historySeconds, deepestReadSeconds, samples, backfillSeconds, library: libraryCost, naive: naiveCost, evaluation, missedIterations,
        selfReads: librarySelfReads, groups: { library: library.length, naive: naive.length },
        maxRulesPerGroup: Math.max(...library.map((g) => g.rules.length)), rssBytes,
      };
    } finally {
      await prometheus.stop();
    }
  } finally {
    await pushgateway.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function machine(): string {
  const cpus = os.cpus();
  const version = execFileSync('prometheus', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return `${cpus.length} × ${cpus[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}, ${version}`;
}

/** The deepest read of the rules, as the report states it. */
function deepestReadText(runs: Run[]): string {
  const seconds = [...new Set(runs.map((r) => r.deepestReadSeconds))];
  return seconds.map((x) => `${x / 60} minutes`).join(' or ');
}

/** What the runs repeated on a week of history (the rows marked "week") measured beside their twins. */
function weekComparison(runs: Run[]): string {
  const pairs = runs.filter((r) => r.historySeconds === WEEK_SECONDS).flatMap((week) => {
    const short = runs.find((r) => r.jobs === week.jobs && r.historySeconds !== WEEK_SECONDS);
    return short ? [{ week, short }] : [];
  });
  if (pairs.length === 0) return '';
  const n = (x: number) => Math.round(x).toLocaleString('en');
  return `To check that, the run is repeated on a week of history (${WEEK_SECONDS / 3600} hours: a week, the weekly jobs' `
    + 'grace and a bit; the rows marked "week"): '
    + pairs.map(({ week, short }) => `at ${week.jobs} jobs the library's rules read ${n(week.library.total)} samples per cycle on the week `
      + `and ${n(short.library.total)} on ${short.historySeconds / 3600} h, the naive rules ${n(week.naive.total)} and ${n(short.naive.total)}; `
      + `the library's median evaluation took ${median(week.evaluation.library).toFixed(3)} s and ${median(short.evaluation.library).toFixed(3)} s`).join('; ')
    + '.';
}

function report(runs: Run[], host: string): string {
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const s = (x: number) => x.toFixed(3);
  const ratio = (r: Run) => median(r.evaluation.library) / median(r.evaluation.naive);
  const history = (r: Run) => (r.historySeconds === WEEK_SECONDS ? 'week' : `${r.historySeconds / 3600} h`);
  const fleetOf = (r: Run) => INTERVAL_CLASSES.map((c) => `${fleet(r.jobs).filter((j) => j.intervalClass === c).length} ${c}`).join(', ');
  return `${HEADING} (\`npm run bench:rules\`)

What the alert rules cost the Prometheus that evaluates them, every cycle: the rule groups
\`BatchJobAlerts\` synthesizes, against the least a team could write by hand ("naive": per job
\`batch_job_success{job="x"} == 0\`, \`batch_job_duration_seconds{job="x"} > max\` and
\`time() - batch_job_last_success_timestamp_seconds{job="x"} > deadline\`, one group per job).
Both sets are loaded side by side into one real Prometheus, on the same data.

Samples read per job per ${EVALUATION_INTERVAL_SECONDS} s evaluation cycle, by the job's interval (each rule's expression
as a query, \`totalQueryableSamples\` of \`stats=all\`):

| jobs | history | interval | library | naive | library / naive |
| ---: | --- | --- | ---: | ---: | ---: |
${runs.flatMap((r) => INTERVAL_CLASSES.map((c) => `| ${r.jobs} | ${history(r)} | ${c} | ${n(r.library.perJob[c])} | ${n(r.naive.perJob[c])} | ${(r.library.perJob[c] / r.naive.perJob[c]).toFixed(1)}x |`)).join('\n')}

Evaluation time of one cycle of all the rules (\`prometheus_rule_group_last_duration_seconds\`
summed over each set's groups; median of ${MEASURED_CYCLES} cycles):

| jobs | history | library groups (most rules in one) | naive groups | library (s) | naive (s) | library / naive | Prometheus RSS | every cycle, library (s) | every cycle, naive (s) |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${runs.map((r) => `| ${r.jobs} | ${history(r)} | ${r.groups.library} (${r.maxRulesPerGroup}) | ${r.groups.naive} | ${s(median(r.evaluation.library))} | ${s(median(r.evaluation.naive))} | **${ratio(r).toFixed(1)}x** | ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB | ${r.evaluation.library.map(s).join(', ')} | ${r.evaluation.naive.map(s).join(', ')} |`).join('\n')}

${runs.map((r) => `- ${r.jobs} jobs (${fleetOf(r)}), ${history(r)} of history: ${n(r.samples)} samples backfilled in ${r.backfillSeconds.toFixed(0)} s; `
    + `all the library's rules read ${n(r.library.total)} samples per cycle (${n(r.library.shared)} of them in rules about no single job), `
    + `the naive rules ${n(r.naive.total)}; ${r.missedIterations} group iterations missed.`
    + (r.selfReads.windows.length === 0 ? '' : `\n- Not reached in this run, ${r.jobs} jobs: the library's recording rules that read their own output over a window `
      + `(${r.selfReads.windows.join(', ')}) read in steady state up to ${n(r.selfReads.perJob)} more samples per job per cycle `
      + '(the series each selects times the evaluations in its window), which neither figure above includes: the run lasts '
      + 'minutes, so those windows hold only the records since Prometheus started.')).join('\n')}
- Goal (issue 11): at 1000 jobs at most 1.5x the naive rules' evaluation time, and a weekly job
  costing about what an hourly one does. Goal (issue 22): the rule groups bounded (at most 70 of at
  most 20 rules at 1,000 jobs, Grafana Mimir's defaults); the RSS is that of the one Prometheus
  holding both sets and the scraped history.

Method (\`scripts/bench-rules.ts\`, run with tsx):

- The fleet (scripts/bench/rule-fleet.ts): N jobs, a third each hourly, daily and weekly, with the
  library's default grace (15 min, 2 h, 2 h) given explicitly, start times spread over the interval,
  every run succeeding. The library's rules are the \`spec.groups\` of every PrometheusRule that a
  chart with one \`Pushgateway\` and one \`BatchJobAlerts\` with those N jobs (\`addJob\`) synthesizes,
  recording rules and alerts alike, as they are.
- The data (scripts/bench/pushgateway-history.ts) is what Prometheus scrapes every ${SCRAPE_SECONDS} s from a
  Pushgateway with \`honor_labels\`: per job \`push_time_seconds\`, \`push_failure_time_seconds\`,
  \`batch_job_success\`, \`batch_job_duration_seconds\` and \`batch_job_last_success_timestamp_seconds\`,
  labelled with the pushed \`job\` (the pushed empty \`instance\` is dropped, as Prometheus drops empty
  labels) and the target labels \`namespace\`, \`service\`, \`pod\`, \`endpoint\` and \`container\`, each
  value what the job's latest run pushed; plus the Pushgateway's \`up\`. The history up to the moment
  Prometheus starts is backfilled, every series at every scrape, nothing thinned out: as far back as
  any rule of either set reads (${deepestReadText(runs)}: its longest range or subquery window plus its
  longest \`offset\`, plus the 5 minutes an instant selector looks back), rounded up to the hour, and
  an hour more. No evaluation reads an older sample: the library's rules remember what is older in
  recording rules of their own. ${weekComparison(runs)} Written as OpenMetrics text one 18-hour window at a
  time (streamed to a file, then \`promtool tsdb create-blocks-from openmetrics --max-block-duration=18h\`,
  two windows at once, each file deleted once backfilled). 18-hour blocks are the largest Prometheus
  keeps as they are with its default retention, so it does not compact them while it is measured.
  From then on Prometheus scrapes the same values live from the script's own /metrics (a stand-in
  for the Pushgateway, so that the data stays current however long the measurement takes).
- One Prometheus (127.0.0.1, a free port, a temporary data folder, stopped by PID) loads both sets
  from one rule file with \`evaluation_interval: ${EVALUATION_INTERVAL_SECONDS}s\` (kube-prometheus's); the samples and the
  evaluation time of a group that sets its own interval are scaled to ${EVALUATION_INTERVAL_SECONDS} s. One Prometheus for
  both, rather than one each, so that both sets see the same data, the same caches and the same
  neighbours at the same moments: Prometheus evaluates every group on its own goroutine at its own
  offset in the interval, so the two sets interleave through each cycle. A group's duration is wall
  time: groups that overlap slow each other down, so a costly set also inflates the other set's
  durations a little, and its own more.
- Evaluation time: after ${WARM_UP_CYCLES} cycles of warm-up (the first cycles after start, reading the backfilled
  blocks for the first time, take many times longer), the script reads Prometheus's own /metrics once
  per cycle, ${MEASURED_CYCLES} times, and checks at the end that the naive rules saw every job.
- Samples: then every rule's expression is run as an instant query with \`stats=all\`, all at the
  same moment, when the rules have run for some minutes (so the records that rules read exist). A
  rule counts for a job when its \`job\` label or a \`job="..."\` matcher names that job; the samples
  of the rules about no single job (the Pushgateway's own alerts, or rules over all jobs) are shared
  evenly by all jobs. A recording rule that reads its own output over a window finds only the
  minutes of records since the start in it; where there are such rules, a line above says how much
  more they read once their windows are full.

Machine: ${host}. It is shared with other work while the benchmark runs, so the evaluation times are
noisy; the sample counts are exact, and the ratio compares two sets evaluated through the same cycles.
`;
}

async function main() {
  const host = machine();
  const runs: Run[] = [];
  for (const count of JOB_COUNTS) {
    runs.push(await runFor(count, false));
    if (WEEK_JOB_COUNTS.includes(count)) runs.push(await runFor(count, true));
  }
  // Smallest first in the report, whatever order they ran in (the largest, the likeliest to fail, first).
  runs.sort((a, b) => a.jobs - b.jobs || a.historySeconds - b.historySeconds);
  const text = report(runs, host);
  const file = writeSection(HEADING, text);
  process.stdout.write(text);
  log(`written to ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  process.stderr.write(`bench-rules: ${e.stack ?? e}\n`);
  process.exitCode = 1;
});
