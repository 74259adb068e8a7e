import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, expect, test } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, npm_config_loglevel: 'error' } });
  } catch (e: any) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

/**
 * What a user gets from the registry: `npm pack`, install the tarball into a fresh project,
 * compile a chart that uses the library with TypeScript, and synthesize it.
 */
test('the npm tarball installs into a consumer project that compiles and synthesizes', () => {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], root));
  const tarball = path.join(scratch, packed[0].filename);
  const files: string[] = packed[0].files.map((f: any) => f.path);
  expect(files).toContain('build/lib/index.js');
  expect(files).toContain('build/lib/index.d.ts');
  expect(files).toContain('build/imports/monitoring.coreos.com.js');
  expect(files.filter((f) => f.startsWith('test/') || f.startsWith('examples/'))).toEqual([]);

  const versions = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies;
  const app = path.join(scratch, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball,
    `cdk8s@${versions.cdk8s}`, `cdk8s-plus-27@${versions['cdk8s-plus-27']}`, `constructs@${versions.constructs}`,
    `typescript@${versions.typescript}`, `@types/node@${versions['@types/node']}`], app);

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
  run('npx', ['tsc', '-p', '.'], app);
  const out = run('node', ['main.js'], app);
  expect(out.trim()).toBe('http://jobs-pushgateway.jobs.svc:9091');

  const docs = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'consumer.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceMonitor', 'NetworkPolicy']));
  expect(docs.find((d) => d.kind === 'ServiceMonitor').spec.endpoints[0].honorLabels).toBe(true);
  // Files the constructs ship in ConfigMaps are found inside the installed package.
  const monitoring = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'monitoring.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  expect(monitoring.find((d) => d.metadata.name === 'report-push-wrapper').data['push-metrics.sh'])
    .toBe(fs.readFileSync(path.join(root, 'lib', 'push-wrapper', 'push-metrics.sh'), 'utf8'));
}, 300_000);
