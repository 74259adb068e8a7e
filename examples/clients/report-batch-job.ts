/**
 * A batch job in TypeScript that reports to the Pushgateway with prom-client.
 *
 * Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=data-processing npx tsx report-batch-job.ts
 * (MonitoredCronJob injects both variables, and with a secured Pushgateway also PUSHGATEWAY_USERNAME,
 * PUSHGATEWAY_PASSWORD and PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import { Counter, Gauge, Pushgateway, Registry } from 'prom-client';

interface RunResult {
  readonly recordsProcessed: number;
  readonly retries: number;
  readonly errors: number;
}

/** Stands in for the job's real work. */
async function work(): Promise<RunResult> {
  if (process.env.BATCH_JOB_FAIL === '1') throw new Error('the upstream database refused the connection');
  return { recordsProcessed: 1250, retries: 1, errors: 0 };
}

async function main(): Promise<number> {
  const url = process.env.PUSHGATEWAY_URL;
  const job = process.env.BATCH_JOB_NAME;
  if (!url || !job) {
    console.error('PUSHGATEWAY_URL and BATCH_JOB_NAME must be set');
    return 2;
  }

  const started = process.hrtime.bigint();
  let result: RunResult | undefined;
  try {
    result = await work();
  } catch (e) {
    console.error(`job failed: ${(e as Error).message}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const registry = new Registry();
  new Gauge({ name: 'batch_job_success', help: '1 if the last run succeeded, 0 if it failed', registers: [registry] }).set(result ? 1 : 0);
  new Gauge({ name: 'batch_job_duration_seconds', help: 'Duration of the last run', registers: [registry] }).set(seconds);
  if (result) {
    // Only a success moves the last success time; leaving it out of a failed run's push keeps the old one.
    new Gauge({ name: 'batch_job_last_success_timestamp_seconds', help: 'Unix time of the last successful run', registers: [registry] })
      .set(Date.now() / 1000);
    new Gauge({ name: 'batch_job_records_processed', help: 'Records handled by the last run', registers: [registry] }).set(result.recordsProcessed);
    new Counter({ name: 'batch_job_retries_total', help: 'Retries in the last run', registers: [registry] }).inc(result.retries);
    new Counter({ name: 'batch_job_errors_total', help: 'Errors in the last run', registers: [registry] }).inc(result.errors);
  }

  try {
    // pushAdd is POST: it replaces only the metrics pushed now, unlike push (PUT), which would wipe
    // the last success time on a failed run. The grouping key is the job alone: no per-run label,
    // so every run updates one group instead of leaving a new one behind.
    await new Pushgateway(url, requestOptions(), registry).pushAdd({ jobName: job });
  } catch (e) {
    // A monitoring outage must not fail the job itself.
    console.error(`could not push to ${url}: ${(e as Error).message}`);
  }
  return result ? 0 : 1;
}

/** Basic auth and the CA of an https Pushgateway, from the environment a Secret feeds. */
function requestOptions(): object {
  const { PUSHGATEWAY_USERNAME: user, PUSHGATEWAY_PASSWORD: password, PUSHGATEWAY_CA_FILE: ca } = process.env;
  return {
    timeout: 10_000,
    headers: user ? { Authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` } : {},
    agent: ca ? new https.Agent({ ca: fs.readFileSync(ca) }) : undefined,
  };
}

main().then((code) => { process.exitCode = code; });
