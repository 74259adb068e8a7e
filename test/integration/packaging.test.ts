import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, expect, test } from 'vitest';
import { findBinary } from '../helpers/binaries';
import { decodeWithKubectl } from '../helpers/kubectl';
const { findPython } = require('../../scripts/package.js') as { findPython(): { python?: string; problem?: string } };

const root = path.resolve(__dirname, '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
// Two npm installs and the generated packages: removing them takes minutes on a loaded machine.
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }), 300_000);

/** The constructs every language binding must expose. */
const CONSTRUCTS = ['BatchMonitoringChart', 'MonitoredCronJob', 'Pushgateway', 'BatchJobAlerts', 'BatchJobsDashboard', 'CleanupCronJob'];

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, npm_config_loglevel: 'error' } });
  } catch (e: any) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

/**
 * What a user gets from the registry: `npm pack`, install the tarball into a fresh project,
 * compile a chart that uses the library with TypeScript, and synthesize it. The installed package
 * carries the jsii assembly that the other languages' packages and Construct Hub read.
 */
let packed: any;
/** `npm pack`, once for the tests below: the tarball's path. */
function pack(): string {
  if (!packed) {
    // What `prepack` runs, done first: jsii's output would mix into `npm pack --json`.
    run('npm', ['run', '-s', 'build'], root);
    packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], root));
  }
  return path.join(scratch, packed[0].filename);
}

/**
 * The tarball as the registry would serve it; a chart that uses the library compiles with
 * TypeScript's strictest settings (the package's own declarations checked too) and synthesizes,
 * in the README's first app (installed once from the tarball, below).
 */
test('the npm tarball installs, compiles under strict settings and synthesizes', () => {
  pack();
  const files: string[] = packed[0].files.map((f: any) => f.path);
  expect(files).toContain('build/lib/index.js');
  expect(files).toContain('build/lib/index.d.ts');
  expect(files).toContain('build/imports/monitoring.coreos.com.js');
  expect(files).toEqual(expect.arrayContaining(['.jsii', 'LICENSE', 'CHANGELOG.md', 'docs/API.md']));
  expect(packed[0].bundled).toContain('@grafana/grafana-foundation-sdk');
  expect(files.filter((f) => f.startsWith('test/') || f.startsWith('examples/'))).toEqual([]);

  // Beside the README app's files, on the packages its `npm install` put there.
  const installed = readmeApp();
  const app = path.join(installed, 'strict');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, skipLibCheck: false, types: ['node'] },
    files: ['main.ts'],
  }));
  fs.writeFileSync(path.join(app, 'main.ts'), [
    "import { App, Chart, Cron, Duration } from 'cdk8s';",
    "import { BatchMonitoringChart, MonitoredCronJob, Pushgateway } from 'cdk8s-batch-monitoring';",
    '',
    "const app = new App({ outdir: 'dist' });",
    "const chart = new Chart(app, 'consumer', { namespace: 'jobs' });",
    "const pushgateway = new Pushgateway(chart, 'Pushgateway', { name: 'jobs-pushgateway', persistenceInterval: Duration.minutes(1) });",
    "const monitoring = new BatchMonitoringChart(app, 'monitoring');",
    "monitoring.addJob({ name: 'nightly-export', interval: Duration.hours(24), maxDuration: Duration.minutes(30) });",
    "new MonitoredCronJob(monitoring, 'Report', { monitoring, jobName: 'report', interval: Duration.hours(1), maxDuration: Duration.minutes(5),",
    "  schedule: Cron.hourly(), wrapCommand: true, containers: [{ image: 'alpine:3.20', command: ['true'] }] });",
    'console.log(pushgateway.url);',
    'app.synth();',
  ].join('\n'));
  const assembly = JSON.parse(fs.readFileSync(path.join(installed, 'node_modules', 'cdk8s-batch-monitoring', '.jsii'), 'utf8'));
  for (const name of CONSTRUCTS) {
    expect(assembly.types[`cdk8s-batch-monitoring.${name}`], name).toMatchObject({ kind: 'class', assembly: 'cdk8s-batch-monitoring' });
  }
  expect(assembly.targets.python.module).toBe('cdk8s_batch_monitoring');
  // Bundled, so the public API may not use it: another language could not name its types.
  expect(Object.keys(assembly.bundled)).toContain('@grafana/grafana-foundation-sdk');
  const referenced = new Set(JSON.stringify(assembly.types).match(/"fqn":"[^"]+"/g));
  expect([...referenced].filter((fqn) => fqn.includes('@grafana/'))).toEqual([]);
  expect(referenced).toContain('"fqn":"constructs.Construct"');

  run(process.execPath, [path.join(installed, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  const out = run(process.execPath, ['main.js'], app);
  expect(out.trim()).toBe('http://jobs-pushgateway.jobs.svc:9091');

  const docs = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'consumer.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceMonitor', 'NetworkPolicy']));
  expect(docs.find((d) => d.kind === 'ServiceMonitor').spec.endpoints[0].honorLabels).toBe(true);
  // Files the constructs ship in ConfigMaps are found inside the installed package.
  const monitoring = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  expect(monitoring.find((d) => d.metadata.name === 'report-push-wrapper').data['push-metrics.sh'])
    .toBe(fs.readFileSync(path.join(root, 'lib', 'push-wrapper', 'push-metrics.sh'), 'utf8'));
}, 300_000);

let readmeAppDir: string | undefined;
/** The README's first app, installed, type-checked and synthesized (once): its folder. */
function readmeApp(): string {
  if (readmeAppDir) return readmeAppDir;
  const tarball = pack();
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Your first app'), readme.indexOf('\n## Apply'));
  /** The first ```<lang> block after `marker` in the section. */
  const block = (marker: string, lang: string) => {
    const from = section.indexOf(marker);
    expect(from, marker).toBeGreaterThanOrEqual(0);
    return new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section.slice(from))![1];
  };
  const clone = path.join(scratch, 'readme', 'cdk8s-batch-monitoring');
  const app = path.join(scratch, 'readme', 'my-batch-monitoring');
  fs.mkdirSync(clone, { recursive: true });
  fs.mkdirSync(app);
  fs.copyFileSync(tarball, path.join(clone, path.basename(tarball)));
  const packageJson = block('`package.json`', 'json');
  expect(JSON.parse(packageJson).dependencies['cdk8s-batch-monitoring']).toBe(`file:../cdk8s-batch-monitoring/${path.basename(tarball)}`);
  fs.writeFileSync(path.join(app, 'package.json'), packageJson);
  fs.writeFileSync(path.join(app, 'cdk8s.yaml'), block('`cdk8s.yaml`', 'yaml'));
  fs.writeFileSync(path.join(app, 'tsconfig.json'), block('`tsconfig.json`', 'json'));
  fs.writeFileSync(path.join(app, 'main.ts'), block('`main.ts`', 'ts'));
  const commands = block('Then, in that folder', 'sh').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  expect(commands).toEqual(['npm install', 'npm run typecheck', 'npm run synth']);

  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  run('npm', ['run', 'typecheck'], app);
  // CDK8S_CHECK_UPGRADE: the CLI's version check needs the network, and prints a stack trace without it.
  execFileSync('npm', ['run', 'synth'], { cwd: app, stdio: 'pipe', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
  readmeAppDir = app;
  return app;
}

/**
 * The README's first app, its four files as written, beside a clone that ran `npm pack` (the
 * README's install): `npm install`, `npm run typecheck`, `npm run synth`, and `kubectl apply -f dist/`
 * reads every file it wrote (decoded without a cluster).
 */
test('the README\'s first app installs, type-checks and synthesizes as written', () => {
  const app = readmeApp();
  expect(fs.readdirSync(path.join(app, 'dist'))).toEqual(['batch-monitoring.k8s.yaml']);
  expect(fs.readdirSync(path.join(app, 'grafana')).sort()).toEqual(['batch-jobs.json', 'grafana-dashboard-batch-jobs.patch.json']);
  const objects = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'batch-monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(expect.arrayContaining([
    'Deployment/pushgateway', 'ServiceMonitor/pushgateway', 'PrometheusRule/pushgateway-rules', 'CronJob/daily-backup', 'CronJob/pushgateway-cleanup',
  ]));
  const kubectl = findBinary('kubectl', 'kubernetes-client');
  if (kubectl) {
    const decoded = decodeWithKubectl(kubectl, path.join(app, 'dist'));
    expect(decoded.status, decoded.stderr).toBe(0);
    expect(decoded.names).toHaveLength(objects.length);
  }
}, 300_000);

let packaged: string[] | undefined;
/** `npm run package`, once: the lines it printed (what it built). */
function packageLanguages(): string[] {
  // pack() has built the library with jsii: package only generates from that build.
  pack();
  packaged ??= run('npm', ['run', '-s', 'package', '--', '--no-build'], root).split('\n');
  return packaged;
}

/**
 * `npm run package`: jsii-pacmak writes the Python, Java, .NET and Go sources and the Python sdist
 * and wheel are built from them; the wheel's module is parsed: each construct is a class bound to
 * its jsii type. (The next test runs Python apps on the generated package.)
 */
test('jsii-pacmak generates every language; the Python wheel exposes the constructs', (ctx) => {
  const { python, problem } = findPython();
  if (!python) {
    if (process.env.CI) throw new Error(`${problem}; CI must build the Python packages, not skip them`);
    console.warn(`\n*** SKIPPING the language packages: ${problem} ***\n`);
    ctx.skip();
  }
  const printed = packageLanguages();
  expect(printed).toEqual(expect.arrayContaining([
    'build/packages/dotnet', 'build/packages/go', 'build/packages/java', 'build/packages/python',
    'build/dist/python/cdk8s-batch-monitoring-0.1.0.tar.gz', 'build/dist/python/cdk8s_batch_monitoring-0.1.0-py3-none-any.whl',
  ]));
  const packages = path.join(root, 'build', 'packages');
  for (const name of CONSTRUCTS) {
    expect(fs.existsSync(path.join(packages, 'java/src/main/java/org/cdk8s/batchmonitoring', `${name}.java`)), `${name}.java`).toBe(true);
    expect(fs.existsSync(path.join(packages, 'dotnet/Org.Cdk8s.BatchMonitoring/Org/Cdk8s/BatchMonitoring', `${name}.cs`)), `${name}.cs`).toBe(true);
    expect(fs.existsSync(path.join(packages, 'go/cdk8sbatchmonitoring', `${name}.go`)), `${name}.go`).toBe(true);
  }

  const wheel = path.join(root, 'build', 'dist', 'python', 'cdk8s_batch_monitoring-0.1.0-py3-none-any.whl');
  const parsed = JSON.parse(run(python!, ['-c', [
    'import ast, json, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as whl:',
    '    files = whl.namelist()',
    "    tree = ast.parse(whl.read('cdk8s_batch_monitoring/__init__.py'))",
    "exported = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and [getattr(t, 'id', None) for t in n.targets] == ['__all__'])",
    "types = {n.name: next((ast.literal_eval(k.value) for k in n.keywords if k.arg == 'jsii_type'), None) for n in tree.body if isinstance(n, ast.ClassDef)}",
    "print(json.dumps({'files': files, 'exported': exported, 'types': types}))",
  ].join('\n'), wheel], root));
  expect(parsed.files).toEqual(expect.arrayContaining([
    'cdk8s_batch_monitoring/__init__.py', 'cdk8s_batch_monitoring/monitoring/__init__.py',
    'cdk8s_batch_monitoring/_jsii/cdk8s-batch-monitoring@0.1.0.jsii.tgz', 'cdk8s_batch_monitoring-0.1.0.data/scripts/pushgateway-cleanup',
  ]));
  for (const name of CONSTRUCTS) {
    expect(parsed.exported, name).toContain(name);
    expect(parsed.types[name], name).toBe(`cdk8s-batch-monitoring.${name}`);
  }
}, 600_000);

/** What a Python app on the generated packages needs here (PyPI unreachable): `{ env }` or `{ problem }`. */
function pythonConsumer(): { python?: string; pythonPath?: string[]; problem?: string } {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import attr, cattrs, dateutil'], { stdio: 'ignore' }).status !== 0) {
    return { problem: `${python} lacks attrs, cattrs or dateutil: apt-get install python3-attr python3-cattr python3-dateutil` };
  }
  const typingExtensions = path.join(root, '.cache', 'debian-trixie', 'root', 'usr', 'lib', 'python3', 'dist-packages');
  if (!fs.existsSync(path.join(typingExtensions, 'typing_extensions.py'))) {
    return { problem: 'typing-extensions 4.13 (Debian 13) is missing: run bash scripts/debian-unstable-binaries.sh trixie' };
  }
  if (!fs.existsSync(VENDOR) || fs.readdirSync(VENDOR).filter((f) => f.endsWith('.whl')).length < 3) {
    return { problem: `the jsii runtime, publication and typeguard wheels are missing from ${VENDOR} (see its SOURCE.md)` };
  }
  return { python, pythonPath: [typingExtensions] };
}
const VENDOR = path.resolve(root, '..', 'shared', 'vendor', 'python');

/**
 * cdk8s, constructs and cdk8s-plus-27 generated for Python, started when this file loads: it needs
 * only node_modules, and run beside the tests above it uses a core they leave idle instead of
 * lengthening the file by as much (it is the file's longest step).
 */
const pythonPeers: Promise<string> | undefined = pythonConsumer().python ? new Promise((resolve, reject) => {
  const peers = path.join(scratch, 'python-peers');
  execFile('npx', ['jsii-pacmak', '--code-only', '--targets', 'python', '--outdir', peers,
    'node_modules/constructs', 'node_modules/cdk8s', 'node_modules/cdk8s-plus-27'], { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  (error, stdout, stderr) => (error ? reject(new Error(`jsii-pacmak of the peers failed:\n${stdout}\n${stderr}`)) : resolve(peers)));
}) : undefined;
// Awaited by the Python test; a failure there, not an unhandled rejection before it.
pythonPeers?.catch(() => undefined);

/** Every file under `dir`, by relative path. */
function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (fs.statSync(path.join(dir, f)).isFile()) files[f] = fs.readFileSync(path.join(dir, f), 'utf8');
  }
  return files;
}

/**
 * The Python apps of docs/other-languages.md (the README's first app, and a team app with an imported
 * Pushgateway, a JobRegistry and a MonitoredCronJob made of cdk8s-plus objects) run on the packages
 * `npm run package` generated, with cdk8s, constructs and cdk8s-plus-27 generated the same way and
 * the jsii runtime built from source (../shared/vendor/python), and write byte for byte what their
 * TypeScript twins write from the npm tarball. Errors reach Python with the Python names.
 */
test('Python apps on the generated packages synthesize what their TypeScript twins do', async (ctx) => {
  const { python, pythonPath, problem } = pythonConsumer();
  if (!python) {
    if (process.env.CI) throw new Error(`${problem}; CI must run the Python apps, not skip them`);
    console.warn(`\n*** SKIPPING the Python consumer: ${problem} ***\n`);
    ctx.skip();
  }
  packageLanguages();
  const peers = await pythonPeers!;
  const runtime = path.join(scratch, 'python-runtime');
  for (const wheel of fs.readdirSync(VENDOR).filter((f) => f.endsWith('.whl'))) run(python!, ['-m', 'zipfile', '-e', path.join(VENDOR, wheel), runtime], root);
  const env = {
    ...process.env,
    PYTHONPATH: [path.join(root, 'build', 'packages', 'python', 'src'), path.join(peers, 'python', 'src'), runtime, ...pythonPath!].join(path.delimiter),
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
  };
  const runPython = (script: string, cwd: string) => {
    fs.mkdirSync(cwd, { recursive: true });
    fs.writeFileSync(path.join(cwd, 'main.py'), script);
    const r = spawnSync(python!, ['main.py'], { cwd, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python main.py failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  const doc = fs.readFileSync(path.join(root, 'docs', 'other-languages.md'), 'utf8');
  const [readmePy, teamPy] = [...doc.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(teamPy).toContain('JobRegistry(');

  // The README's first app: Python against the README's TypeScript app, installed from the tarball.
  const app = readmeApp();
  const pyReadme = path.join(scratch, 'python-readme');
  runPython(readmePy, pyReadme);
  expect(filesOf(pyReadme)).toEqual({ 'main.py': readmePy, ...prefixed('dist', path.join(app, 'dist')), ...prefixed('grafana', path.join(app, 'grafana')) });

  // The team app: docs/jobs.md's TypeScript, run with tsx in the same installed app.
  const jobs = fs.readFileSync(path.join(root, 'docs', 'jobs.md'), 'utf8');
  const teamTs = /## A team's own app[\s\S]*?```ts\n([\s\S]*?)```/.exec(jobs)![1];
  fs.writeFileSync(path.join(app, 'team.ts'), teamTs);
  const tsTeam = path.join(app, 'team-run');
  fs.mkdirSync(tsTeam);
  execFileSync(process.execPath, ['--import', 'tsx', path.join(app, 'team.ts')], { cwd: tsTeam, stdio: 'pipe' });
  const pyTeam = path.join(scratch, 'python-team');
  // After the team app, in the same process (one jsii runtime start fewer): an error arrives as
  // RuntimeError with the library's message and the Python names.
  const teamOut = runPython([
    teamPy,
    'from cdk8s import App, Duration',
    'from cdk8s_batch_monitoring import BatchMonitoringChart',
    'chart = BatchMonitoringChart(App(), "test")',
    'try:',
    '    chart.add_job(name="x", interval=Duration.minutes(5), max_duration=Duration.hours(1))',
    'except RuntimeError as e:',
    '    print(e)',
    '',
  ].join('\n'), pyTeam);
  const written = filesOf(path.join(pyTeam, 'dist'));
  expect(Object.keys(written)).toEqual(['reports.k8s.yaml']);
  expect(written).toEqual(filesOf(path.join(tsTeam, 'dist')));
  expect(written['reports.k8s.yaml']).toContain('kind: PrometheusRule');

  // The jsii runtime puts the JavaScript error's name in front.
  expect(teamOut.trim().split('\n').at(-1)).toBe('Error: test/Jobs: invalid maxDuration of job "x" "60 minutes": a run may not take longer than the interval between runs '
    + '(5 minutes): lower maxDuration or raise interval (Python: `max_duration` for `maxDuration`)');
}, 900_000);

/** The files of `dir`, as `filesOf` names them under `prefix`. */
function prefixed(prefix: string, dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(filesOf(dir)).map(([f, content]) => [path.join(prefix, f), content]));
}
