// `npm run bench`, part 2: a BatchMonitoringChart with BENCH_JOBS registered jobs (BENCH_DISTINCT=1:
// every job its own thresholds, else a few common schedules). Prints how long loading, building
// the constructs and synthesizing (with the file writes) took, in ms.
import { App, Duration } from 'cdk8s';
import { BatchMonitoringChart } from '../../lib';

const loaded = performance.now();
const jobs = Number(process.env.BENCH_JOBS ?? 10);
const distinct = process.env.BENCH_DISTINCT === '1';
const app = new App();
const chart = new BatchMonitoringChart(app, 'batch-monitoring', {
  alerts: { runbookBaseUrl: 'https://git.example.com/platform/batch-monitoring/blob/main/docs/runbooks.md' },
});
for (let i = 0; i < jobs; i++) {
  const name = `job-${String(i).padStart(4, '0')}`;
  if (distinct) {
    chart.addJob({ name, interval: Duration.minutes(15 + i), grace: Duration.seconds(60 + i), maxDuration: Duration.seconds(60 + i) });
  } else {
    chart.addJob({ name, interval: Duration.minutes([15, 60, 360, 1440][i % 4]), maxDuration: Duration.minutes(1 + (i % 7) * 2) });
  }
}
const built = performance.now();
app.synth();
const done = performance.now();
process.stdout.write(JSON.stringify({ loadMs: loaded, buildMs: built - loaded, synthMs: done - built }));
