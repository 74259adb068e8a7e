#!/usr/bin/env node
'use strict';
// npm run bench: what the library costs at synth time, against the floor every cdk8s app pays.
//   1. examples/main.ts compiled to JS, against a bare cdk8s-plus-27 chart with one Deployment
//   2. charts with 10, 100 and 1000 jobs: time, and the size of every object
//   3. the cleanup benchmark (scripts/bench-cleanup.js, which owns its own section)
//   4. start-up cost of each dependency
//   5. `npm run synth` end to end, and where its time goes
//   then the alert rule cost on a real Prometheus (scripts/bench-rules.ts, its own section)
// Writes docs/benchmarks.md: this script owns everything but the sections of the other benchmark
// scripts (KEPT_HEADINGS), which it keeps as they are and lets them rewrite. BENCH_CLEANUP=0 skips
// part 3, BENCH_RULES=0 the rule cost.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseAllDocuments } = require('yaml');

const ROOT = path.join(__dirname, '..');
const FILE = path.join(ROOT, 'docs', 'benchmarks.md');
// Sections written by scripts/bench-cleanup.js, scripts/bench-ha.ts, scripts/bench-rules.ts and scripts/bench-capacity.ts.
const KEPT_HEADINGS = ['## pushgateway-cleanup', '## Pushes through a Pushgateway restart', '## Alert rule cost', '## Pushgateway capacity'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SCALE_ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 5);
const JOB_COUNTS = [10, 100, 1000];
const CLIENT_SIDE_APPLY_LIMIT = 256 * 1024;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${Math.round(x)}`;
const log = (line) => process.stderr.write(`${line}\n`);

/** Runs a command to completion; returns its wall time in ms and its stdout. Throws on failure. */
function run(command, args, { env = {}, cwd = ROOT } = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return { wall, stdout: r.stdout };
}

const tempDirs = [];
function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * Runs each contestant once per round, rounds interleaved so that a noisy neighbour hits all of
 * them alike. `contestants`: name -> () => number (ms) or object with ms fields.
 */
function interleave(rounds, contestants) {
  const results = Object.fromEntries(Object.keys(contestants).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(contestants)) {
      results[name].push(fn());
    }
    log(`round ${round + 1}/${rounds}: ${Object.entries(results).map(([k, v]) => `${k} ${ms(typeof v[round] === 'number' ? v[round] : v[round].wall)}`).join(', ')}`);
  }
  return results;
}

/** examples/, lib/, imports/ and scripts/bench/ compiled by tsc (the package's own build settings) into a folder of the project, so that requires resolve as in the build. */
function compile() {
  const out = fs.mkdtempSync(path.join(ROOT, '.bench-'));
  tempDirs.push(out);
  fs.writeFileSync(path.join(out, 'tsconfig.json'), JSON.stringify({
    extends: '../tsconfig.build.json',
    compilerOptions: { rootDir: '..', outDir: '.', declaration: false },
    include: ['../lib/**/*.ts', '../imports/**/*.ts', '../examples/main.ts', '../scripts/bench/*.ts'],
  }));
  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(out, 'tsconfig.json')]);
  return out;
}

function synthOnce(script, env = {}) {
  const outdir = tempDir('bench-synth-');
  const r = run(process.execPath, [script], { env: { CDK8S_OUTDIR: outdir, ...env } });
  return { ...r, outdir };
}

// 1. examples/main.ts against the floor.
function partMain(out) {
  const main = path.join(out, 'examples', 'main.js');
  const floor = path.join(out, 'scripts', 'bench', 'floor.js');
  const r = interleave(ROUNDS, {
    floor: () => synthOnce(floor).wall,
    'examples/main.js': () => synthOnce(main).wall,
  });
  return { floor: median(r.floor), main: median(r['examples/main.js']), rounds: r };
}

// 2. 10, 100, 1000 jobs.
function partScale(out) {
  const script = path.join(out, 'scripts', 'bench', 'scale.js');
  const configs = Object.fromEntries([
    ...JOB_COUNTS.map((n) => [`${n} jobs`, { BENCH_JOBS: String(n) }]),
    ['1000 jobs, distinct thresholds', { BENCH_JOBS: '1000', BENCH_DISTINCT: '1' }],
  ]);
  const lastOutdir = {};
  const r = interleave(SCALE_ROUNDS, Object.fromEntries(Object.entries(configs).map(([name, env]) => [name, () => {
    const s = synthOnce(script, env);
    lastOutdir[name] = s.outdir;
    return { wall: s.wall, ...JSON.parse(s.stdout) };
  }])));
  const sizes = {};
  for (const [name, dir] of Object.entries(lastOutdir)) {
    sizes[name] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
        const o = doc.toJS();
        if (!o) continue;
        sizes[name].push({ id: `${o.kind}/${o.metadata.name}`, json: Buffer.byteLength(JSON.stringify(o)), yaml: Buffer.byteLength(doc.toString()) });
      }
    }
  }
  const summary = Object.fromEntries(Object.entries(r).map(([name, xs]) => [name, {
    wall: median(xs.map((x) => x.wall)), load: median(xs.map((x) => x.loadMs)),
    build: median(xs.map((x) => x.buildMs)), synth: median(xs.map((x) => x.synthMs)),
  }]));
  return { summary, sizes };
}

// 4. Start-up cost of each dependency, each in a fresh process.
function partStartup(out) {
  const sdk = [...new Set(fs.readdirSync(path.join(ROOT, 'lib')).filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...fs.readFileSync(path.join(ROOT, 'lib', f), 'utf8').matchAll(/from '(@grafana\/grafana-foundation-sdk[^']*)'/g)].map((m) => m[1])))].sort();
  const rootImports = sdk.filter((s) => s === '@grafana/grafana-foundation-sdk');
  const modules = {
    constructs: ['constructs'],
    cdk8s: ['cdk8s'],
    'cdk8s-plus-27': ['cdk8s-plus-27'],
    ...Object.fromEntries(sdk.map((s) => [s, [s]])),
    'every grafana-foundation-sdk subpath lib/ imports': sdk,
    'the library (lib/index.js, compiled)': [path.join(out, 'lib', 'index.js')],
  };
  const probe = (ids) => `const t=process.hrtime.bigint();${ids.map((id) => `require(${JSON.stringify(id)});`).join('')}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const r = interleave(Math.max(5, Math.ceil(ROUNDS / 2)), Object.fromEntries(Object.entries(modules).map(([name, ids]) => [name,
    () => Number(run(process.execPath, ['-e', probe(ids)]).stdout)])));
  // Which parts of the SDK each subpath loads (its dist/<folder>/ files).
  const footprint = Object.fromEntries(sdk.map((id) => [id, JSON.parse(run(process.execPath, ['-e', `
    const before = new Set(Object.keys(require.cache)); require(${JSON.stringify(id)});
    const files = Object.keys(require.cache).filter((k) => !before.has(k) && k.includes('grafana-foundation-sdk'));
    process.stdout.write(JSON.stringify({ files: files.length, folders: [...new Set(files.map((f) => f.split('/dist/')[1].split('/')[0]))].sort() }));
  `]).stdout)]));
  return { sdk, rootImports, footprint, times: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)])) };
}

// 5. `npm run synth` end to end, and the steps inside it.
function partEndToEnd(out) {
  const main = path.join(out, 'examples', 'main.js');
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const withOutdir = (command, args) => () => {
    const outdir = tempDir('bench-e2e-');
    return run(command, args(outdir), { env: { CDK8S_OUTDIR: outdir } }).wall;
  };
  const steps = {
    'npm run synth': withOutdir('npm', (o) => ['run', '--silent', 'synth', '--', '--output', o]),
    'npx cdk8s synth': withOutdir('npx', (o) => ['cdk8s', 'synth', '--no-check-upgrade', '--output', o]),
    'npx cdk8s synth --app "npx tsx examples/main.ts"':
      withOutdir('npx', (o) => ['cdk8s', 'synth', '--no-check-upgrade', '--app', 'npx tsx examples/main.ts', '--output', o]),
    'npx tsx examples/main.ts': withOutdir('npx', () => ['tsx', 'examples/main.ts']),
    'node_modules/.bin/tsx examples/main.ts': withOutdir(tsx, () => ['examples/main.ts']),
    'node --import tsx examples/main.ts': withOutdir(process.execPath, () => ['--import', 'tsx', 'examples/main.ts']),
    'node examples/main.js (compiled)': withOutdir(process.execPath, () => [main]),
    'node: require the library only': () => run(process.execPath, ['-e', `require(${JSON.stringify(path.join(out, 'lib', 'index.js'))})`]).wall,
    'node -e 0': () => run(process.execPath, ['-e', '0']).wall,
    'npx cdk8s --version': () => run('npx', ['cdk8s', '--version']).wall,
  };
  const r = interleave(Math.max(5, Math.ceil(ROUNDS / 2)), steps);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, `
    + `Node.js ${process.version}, npm ${run('npm', ['--version']).stdout.trim()}`;
}

function report({ a, b, d, e, host }) {
  const ratioA = a.main / a.floor;
  const t = (name) => b.summary[name];
  const wallRatio = t('1000 jobs').wall / t('10 jobs').wall;
  const inRatio = (t('1000 jobs').build + t('1000 jobs').synth) / (t('10 jobs').build + t('10 jobs').synth);
  const perJob100to1000 = ((t('1000 jobs').build + t('1000 jobs').synth) - (t('100 jobs').build + t('100 jobs').synth)) / 900;
  const perJob10to100 = ((t('100 jobs').build + t('100 jobs').synth) - (t('10 jobs').build + t('10 jobs').synth)) / 90;
  const configs = Object.keys(b.sizes);
  const ids = [...new Set(configs.flatMap((c) => b.sizes[c].map((s) => s.id)))];
  const size = (c, id) => b.sizes[c].find((s) => s.id === id);
  const largest = Math.max(...b.sizes['1000 jobs'].map((s) => s.json));
  // The registry's PrometheusRules (`<name>-jobs`, `-jobs-2`, ...) at 1000 jobs.
  const jobsBytes = b.sizes['1000 jobs'].filter((s) => /^PrometheusRule\/.*-jobs(-\d+)?$/.test(s.id)).reduce((sum, s) => sum + s.json, 0);
  const largestDistinct = Math.max(...b.sizes['1000 jobs, distinct thresholds'].map((s) => s.json));
  const over = configs.flatMap((c) => b.sizes[c].filter((s) => s.json >= CLIENT_SIDE_APPLY_LIMIT).map((s) => `${s.id} (${c}, ${s.json.toLocaleString('en')} bytes)`));
  const lib = d.times['the library (lib/index.js, compiled)'];
  const sdkAll = d.times['every grafana-foundation-sdk subpath lib/ imports'];
  const plus = d.times['cdk8s-plus-27'];
  const step = (k) => e[k];

  return `# Benchmarks

What the library costs, written by the scripts themselves: \`npm run bench\` writes parts 1, 2, 4
and 5 below, then runs part 3, the cleanup benchmark (\`scripts/bench-cleanup.js\`, also
\`npm run bench:cleanup\`), which rewrites only its section, \`pushgateway-cleanup\`, and last the
alert rule cost (\`scripts/bench-rules.ts\`, also \`npm run bench:rules\`), which rewrites only its
section, \`Alert rule cost\`.
Machine: ${host}. It is shared with other
work while the benchmarks run, so absolute times are noisy: contestants alternate round by round,
and only ratios between numbers of the same run are compared.

## Synthesis (\`npm run bench\`)

\`scripts/bench.js\` compiles lib/, imports/, examples/main.ts and scripts/bench/*.ts with tsc (the
package's build settings, tsconfig.build.json) into a temporary folder of the project, and runs each
contestant as \`node <file>.js\` with \`CDK8S_OUTDIR\` set to a fresh temporary folder, timing it from
spawn to exit (Node start-up, module loading, construction, synthesis and file writes). Medians.

### 1. examples/main.ts against the floor

The floor (scripts/bench/floor.ts) is a bare cdk8s-plus-27 chart with one Deployment: loading Node,
cdk8s and cdk8s-plus and synthesizing, which any cdk8s app pays. ${ROUNDS} rounds, alternating.

| app | wall time, median (ms) | every round (ms) |
| --- | --- | --- |
| floor: cdk8s-plus-27, one Deployment | ${ms(a.floor)} | ${a.rounds.floor.map(ms).join(', ')} |
| examples/main.js | ${ms(a.main)} | ${a.rounds['examples/main.js'].map(ms).join(', ')} |

examples/main.js / floor: **${ratioA.toFixed(2)}x** (goal: at most 1.5x): ${ratioA <= 1.5 ? 'met' : `missed by ${((ratioA / 1.5 - 1) * 100).toFixed(0)}%`}.
The difference, ${ms(a.main - a.floor)} ms, is mostly loading what the floor does not need: the Grafana SDK
subpaths take ${ms(sdkAll)} ms on their own (part 4), because each panel subpath (\`/stat\`, \`/table\`, ...)
also loads the SDK's dashboard v2 schemas (\`dashboardv2\`, \`dashboardv2beta1\`, \`resource\`), which the
library does not use; \`/dashboard\` and \`/common\` alone are far cheaper. The rest is the library's own
modules and building and synthesizing its objects (part 5: ${ms(step('node examples/main.js (compiled)') - step('node: require the library only'))} ms for synthesis and file writes).${ratioA <= 1.5 ? '' : `
The way to the goal would be panels built with \`/dashboard\`'s generic PanelBuilder instead of the typed
panel subpaths (losing their typed options), or an SDK that does not tie its panel builders to v2.`}

### 2. 10, 100 and 1000 jobs

scripts/bench/scale.ts: a BatchMonitoringChart (Pushgateway, alerts, dashboard, cleanup) with N jobs
registered by \`addJob\`, intervals from 15 minutes to a day and max durations of 1 to 13 minutes (a few
common schedules); the last row gives every job its own interval, grace and max duration, the worst
case for anything that writes thresholds into queries (the alerts and the dashboard join on the
registry's threshold series instead). ${SCALE_ROUNDS} rounds, alternating. Inside
the process: \`load\` is the time from process start until the library is loaded, \`build\` the
constructs and \`addJob\` calls, \`synth\` is \`app.synth()\` with the file write.

| chart | wall (ms) | load (ms) | build (ms) | synth (ms) |
| --- | --- | --- | --- | --- |
${Object.entries(b.summary).map(([name, s]) => `| ${name} | ${ms(s.wall)} | ${ms(s.load)} | ${ms(s.build)} | ${ms(s.synth)} |`).join('\n')}

- 1000 jobs / 10 jobs, wall time: **${wallRatio.toFixed(2)}x** (goal: under 3x): ${wallRatio < 3 ? 'met' : `missed by ${((wallRatio / 3 - 1) * 100).toFixed(0)}%`}.
- Build and synth alone (what grows with the jobs): ${inRatio.toFixed(1)}x from 10 to 1000 jobs, ${perJob10to100.toFixed(2)} ms per
  job from 10 to 100 and ${perJob100to1000.toFixed(2)} ms per job from 100 to 1000: linear${perJob100to1000 <= perJob10to100 * 1.5 ? '' : ' at best: the cost per job grows with the count'}.

Size of every object (bytes of compact JSON, what client-side \`kubectl apply\` stores in its
last-applied annotation, limited to 256 KiB = 262,144 bytes; etcd takes at most about 1.5 MiB):

| object | ${configs.join(' | ')} |
| --- | ${configs.map(() => '---:').join(' | ')} |
${ids.map((id) => `| ${id} | ${configs.map((c) => (size(c, id) ? size(c, id).json.toLocaleString('en') : '')).join(' | ')} |`).join('\n')}

Largest object: ${largest.toLocaleString('en')} bytes with 1000 jobs, ${largestDistinct.toLocaleString('en')} with 1000 jobs of distinct
thresholds. ${over.length === 0 ? 'No object reaches the 256 KiB client-side apply limit.' : `At or over the 256 KiB client-side apply limit: ${over.join('; ')}: apply with \`kubectl apply --server-side\` (README), which keeps no last-applied annotation.`}
The job registry's declarations grow by about ${(jobsBytes / 1000 / 1000).toFixed(1)} kB per job and are split into PrometheusRules of
at most 500 jobs and 150 kB of PromQL, one rule group each (\`<name>-jobs\`, \`<name>-jobs-2\`, ...); the alerts (\`<name>-rules\`), the dashboard, the
Pushgateway and the cleanup do not grow with the jobs. \`test/scale.test.ts\` asserts these limits.

### 4. Start-up cost per dependency

\`node -e 'require(...)'\` in a fresh process, time of the require alone (each includes what it loads
itself, e.g. cdk8s-plus-27 loads cdk8s and constructs), median of ${Math.max(5, Math.ceil(ROUNDS / 2))} alternating rounds.

| module | require (ms) |
| --- | --- |
${Object.entries(d.times).map(([k, v]) => `| ${k} | ${ms(v)} |`).join('\n')}

Files of the Grafana SDK each subpath loads: ${d.sdk.map((id) => `\`${id.replace('@grafana/grafana-foundation-sdk', '')}\` ${d.footprint[id].files} (${d.footprint[id].folders.join(', ')})`).join('; ')}.

lib/ imports the Grafana SDK by subpath only (${d.sdk.map((s) => `\`${s.replace('@grafana/grafana-foundation-sdk', '')}\``).join(', ')}), ${d.rootImports.length === 0 ? 'never its root' : 'BUT ALSO ITS ROOT'}.
Those subpaths take ${ms(sdkAll)} ms together, ${((sdkAll / lib) * 100).toFixed(0)}% of loading the library (${ms(lib)} ms);
cdk8s-plus-27, which every cdk8s-plus app loads anyway, takes ${ms(plus)} ms. ${sdkAll < 0.25 * lib
    ? 'Loading the SDK lazily, only when a dashboard is synthesized, would save too little to be worth a lazy require in a typed library.'
    : 'Loading the SDK lazily, only when a dashboard is synthesized, would not help: every BatchMonitoringChart has a dashboard.'}

### 5. \`npm run synth\` end to end

Each command writes examples/main.ts's manifests to a fresh temporary folder; median of
${Math.max(5, Math.ceil(ROUNDS / 2))} alternating rounds.

| command | wall time, median (ms) |
| --- | --- |
${Object.entries(e).map(([k, v]) => `| \`${k}\` | ${ms(v)} |`).join('\n')}

Where the time of \`npm run synth\` goes (differences of the medians above; cdk8s.yaml's \`app:\` is
\`node --import tsx examples/main.ts\`):

| step | ms |
| --- | --- |
| npm run + scripts/synth.js (\`npm run synth\` − \`npx cdk8s synth\`) | ${ms(step('npm run synth') - step('npx cdk8s synth'))} |
| npx + cdk8s CLI (\`npx cdk8s synth\` − \`node --import tsx examples/main.ts\`) | ${ms(step('npx cdk8s synth') - step('node --import tsx examples/main.ts'))} |
| tsx: loading it and transforming the TypeScript (\`node --import tsx\` − compiled) | ${ms(step('node --import tsx examples/main.ts') - step('node examples/main.js (compiled)'))} |
| synthesis and file writes (compiled − require the library only) | ${ms(step('node examples/main.js (compiled)') - step('node: require the library only'))} |
| loading the library and its dependencies (require the library − \`node -e 0\`) | ${ms(step('node: require the library only') - step('node -e 0'))} |
| Node start-up (\`node -e 0\`) | ${ms(step('node -e 0'))} |

The cdk8s CLI is the largest step: \`npx cdk8s --version\` alone takes ${ms(step('npx cdk8s --version'))} ms (npx resolving the
package, then the CLI loading its own dependencies), more than synthesizing does. tsx transforms
without type-checking (\`npm run typecheck\` does that, in CI). Run as a loader of one Node process
(\`node --import tsx\`, cdk8s.yaml's \`app:\`), it saves npx and tsx's own CLI process over
\`npx tsx examples/main.ts\` (${ms(step('npx tsx examples/main.ts'))} ms against ${ms(step('node --import tsx examples/main.ts'))} ms on its own;
\`npx cdk8s synth\` with the former app took ${ms(step('npx cdk8s synth --app "npx tsx examples/main.ts"'))} ms, with the latter ${ms(step('npx cdk8s synth'))} ms).
A compiled app would save the transform too, but would need a build before every synth.
`;
}

function main() {
  const host = machine();
  log('compiling with tsc ...');
  const out = compile();
  try {
    log('1. examples/main.js against the floor');
    const a = partMain(out);
    log('2. 10, 100, 1000 jobs');
    const b = partScale(out);
    log('4. start-up cost per dependency');
    const d = partStartup(out);
    log('5. npm run synth end to end');
    const e = partEndToEnd(out);
    const existing = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
    const kept = existing.split(/^(?=## )/m).filter((section) => KEPT_HEADINGS.some((h) => section.startsWith(h)));
    const text = report({ a, b, d, e, host });
    fs.mkdirSync(path.dirname(FILE), { recursive: true });
    // The other scripts' sections follow this script's, as they were; they rewrite them below.
    fs.writeFileSync(FILE, [text, ...kept].map((section) => section.trimEnd()).join('\n\n') + '\n');
    log(`written to ${path.relative(process.cwd(), FILE)}`);
  } finally {
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (process.env.BENCH_CLEANUP !== '0') {
    log('3. the cleanup benchmark (scripts/bench-cleanup.js)');
    const r = spawnSync(process.execPath, [path.join(__dirname, 'bench-cleanup.js')], { stdio: 'inherit' });
    if (r.status !== 0) {
      log('bench-cleanup failed: its section of docs/benchmarks.md is left as it was');
      process.exitCode = 1;
    }
  }
  if (process.env.BENCH_RULES !== '0') {
    log('the alert rule cost (scripts/bench-rules.ts)');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bench-rules.ts')], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) {
      log('bench-rules failed: its section of docs/benchmarks.md is left as it was');
      process.exitCode = 1;
    }
  }
}

main();
