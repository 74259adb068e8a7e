// npm run bench:ha: 200 job runs pushing through lib/push-wrapper/push-metrics.sh while a
// Pushgateway is stopped and restarted mid-way, on Debian's real prometheus-pushgateway and a real
// Prometheus scraping every replica (honor_labels, as the ServiceMonitor does). Three scenarios
// side by side in one run:
//   - two replicas (PUSHGATEWAY_URLS), replica 0 killed (SIGKILL) and restarted on its file;
//   - one Pushgateway stopped as a pod is (SIGTERM, it writes its file) and restarted;
//   - the same with the wrapper as it was before retries (git show SEED_WRAPPER).
// A run's result is lost when Prometheus does not show it: every job is its own, so
// `max by (job) (batch_job_success)` must hold every job with the run's own outcome.
// Writes its section of docs/benchmarks.md.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PushLoadResult, pushThroughRestart } from '../test/helpers/push-load';

const { writeSection } = require('./bench/benchmarks-file') as { writeSection(heading: string, text: string): string };

const ROOT = path.join(__dirname, '..');
const WRAPPER = path.join(ROOT, 'lib', 'push-wrapper', 'push-metrics.sh');
// The wrapper before pushes were retried (curl --retry 2, which gives up on a refused connection).
const SEED_WRAPPER = 'dc61f7f:lib/push-wrapper/push-metrics.sh';
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
// Runs end spread over this window; the outage starts and ends inside it.
const SPREAD_MS = 30_000;
const STOP_AT_MS = 5_000;
const DOWN_MS = 20_000;
const HEADING = '## Pushes through a Pushgateway restart';
process.env.PATH = `${path.join(ROOT, '.cache/debian-unstable/root/usr/bin')}${path.delimiter}${process.env.PATH}`;

function binary(name: string): string {
  return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
}

function section(results: PushLoadResult[], versions: string): string {
  const row = (r: PushLoadResult) => `| ${r.name} | ${r.runs} | ${r.delivered} | **${r.lost}** | ${r.exitKept} | ${r.retried} | ${r.missedReplica} | `
    + `${r.perReplica.join(' / ')} | ${r.pushMedian.toFixed(1)} / ${r.pushMax.toFixed(1)} | ${r.finishedSeconds.toFixed(1)} |`;
  return `${HEADING} (\`npm run bench:ha\`)

${RUNS} job runs, each its own job, start at once through \`lib/push-wrapper/push-metrics.sh\` (curl);
run *i* works ${(SPREAD_MS / RUNS / 1000).toFixed(2)} × *i* seconds, so that the runs end over ${SPREAD_MS / 1000} s, and
every seventh fails (exit 1). ${STOP_AT_MS / 1000} s in, Pushgateway 0 is stopped by its PID; ${DOWN_MS / 1000} s later it is started
again on the same port and persistence file (\`--persistence.interval=5m\`, the construct's default).
A real Prometheus scrapes every Pushgateway each second with \`honor_labels: true\`. A run is lost when
\`max by (job) (batch_job_success)\` does not show its job with its own outcome three seconds after the
last run ended. ${versions}.

| scenario | runs | delivered | lost | exit status kept | runs that retried | runs that missed a replica | groups on each replica | seconds from the job's end to the wrapper's exit, median / max | seconds until every run ended |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${results.map(row).join('\n')}

- Two replicas: the killed replica loses what it held (SIGKILL: nothing was written since start),
  and the runs that ended while it was away reach only the other one; Prometheus still shows every
  run, because every run reached at least one replica. A run that reached one replica waits at most
  10 s more for the other (\`delivered to 1 of 2\`), never the whole retry bound.
- One Pushgateway stopped as Kubernetes stops a pod (SIGTERM: it writes its file and comes back
  with it): the retries carry every run that ended during the outage over it.
- The wrapper before retries: every run that ended during the outage lost its result.
- What no retry can save: with one Pushgateway killed (SIGKILL, or a node lost), pushes it had
  accepted since its last persistence write are gone; only a second replica keeps them.

Method: \`scripts/bench-ha.ts\` with \`test/helpers/push-load.ts\` (also run small by \`test/integration/push-load.test.ts\`); the seed wrapper is \`git show ${SEED_WRAPPER}\`.
`;
}

async function main() {
  const versions = ['prometheus-pushgateway', 'prometheus', 'curl']
    .map((b) => execFileSync('sh', ['-c', `"${binary(b)}" --version 2>&1 | head -1`], { encoding: 'utf8' }).trim().replace(/ \(.*$/, ''))
    .join('; ');
  const seedWrapper = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ha-seed-')), 'push-metrics.sh');
  fs.writeFileSync(seedWrapper, execFileSync('git', ['show', SEED_WRAPPER], { cwd: ROOT }));
  const timing = { runs: RUNS, spreadMs: SPREAD_MS, stopAtMs: STOP_AT_MS, downMs: DOWN_MS };
  const scenarios = [
    { name: 'two replicas, replica 0 killed (SIGKILL)', replicas: 2, wrapper: WRAPPER, signal: 'SIGKILL' as const },
    { name: 'one Pushgateway stopped (SIGTERM)', replicas: 1, wrapper: WRAPPER, signal: 'SIGTERM' as const },
    { name: 'one Pushgateway stopped (SIGTERM), wrapper before retries', replicas: 1, wrapper: seedWrapper, signal: 'SIGTERM' as const },
  ];
  const results: PushLoadResult[] = [];
  for (const s of scenarios) {
    process.stderr.write(`bench-ha: ${s.name} ...\n`);
    const result = await pushThroughRestart({ ...s, ...timing }, { pushgateway: binary('prometheus-pushgateway'), prometheus: binary('prometheus') });
    process.stderr.write(`bench-ha: ${JSON.stringify(result)}\n`);
    results.push(result);
  }
  fs.rmSync(path.dirname(seedWrapper), { recursive: true, force: true });

  const text = section(results, versions);
  writeSection(HEADING, text);
  process.stdout.write(text);
  if (results[0].lost > 0 || results[1].lost > 0) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench-ha: ${e.stack || e}\n`);
  process.exitCode = 1;
});
