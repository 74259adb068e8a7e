/**
 * A batch job in TypeScript that reports to the Pushgateway with prom-client.
 *
 * Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=data-processing npx tsx report-batch-job.ts
 * (MonitoredCronJob injects both variables, PUSHGATEWAY_URLS with a Pushgateway of several replicas,
 * and with a secured Pushgateway also PUSHGATEWAY_USERNAME, PUSHGATEWAY_PASSWORD and
 * PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.
 *
 * A push that fails for a reason that can pass (refused or reset connection, timeout, DNS, 5xx) is
 * retried with exponential backoff and jitter for PUSHGATEWAY_RETRY_SECONDS (default 300, long
 * enough for a Pushgateway pod rescheduled with its volume); a 4xx is never retried. With
 * PUSHGATEWAY_URLS every replica gets the push; the run is delivered once one accepted it, and the
 * others get REPLICA_GRACE_MS more.
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

const DEFAULT_RETRY_SECONDS = 300;
const REPLICA_GRACE_MS = 10_000;

async function main(): Promise<number> {
  const urls = pushgatewayUrls();
  const job = process.env.BATCH_JOB_NAME;
  if (urls.length === 0 || !job) {
    console.error('PUSHGATEWAY_URL (or PUSHGATEWAY_URLS) and BATCH_JOB_NAME must be set');
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

  // The registry is not touched again: every attempt and every replica get the same result, so a
  // retry only repeats it. pushAdd is POST: it replaces only the metrics pushed now, unlike push
  // (PUT), which would wipe the last success time on a failed run. The grouping key is the job
  // alone: no per-run label, so every run updates one group instead of leaving a new one behind.
  // A monitoring outage must not fail the job itself: the outcome is only reported.
  await pushToEveryReplica(urls, (url) => new Pushgateway(url, requestOptions(), registry).pushAdd({ jobName: job }));
  return result ? 0 : 1;
}

/** Every URL in PUSHGATEWAY_URLS (one per replica, each once), else PUSHGATEWAY_URL. */
function pushgatewayUrls(): string[] {
  const replicas = (process.env.PUSHGATEWAY_URLS ?? '').split(',').map((u) => u.trim().replace(/\/+$/, '')).filter((u) => u !== '');
  return replicas.length > 0 ? [...new Set(replicas)] : [process.env.PUSHGATEWAY_URL ?? ''].filter((u) => u !== '');
}

function retrySeconds(): number {
  const text = process.env.PUSHGATEWAY_RETRY_SECONDS ?? '';
  if (/^\d+$/.test(text)) return Number(text);
  if (text !== '') console.error(`PUSHGATEWAY_RETRY_SECONDS=${text} is not a whole number of seconds; using ${DEFAULT_RETRY_SECONDS}`);
  return DEFAULT_RETRY_SECONDS;
}

/** A 4xx answer will not get better; no answer at all, or a 5xx, can pass. */
function canPass(error: Error): boolean {
  const status = /^push failed with status (\d{3})/.exec(error.message);
  return !status || Number(status[1]) >= 500;
}

/**
 * Pushes to every URL, retrying what can pass, all replicas in each round. Returns whether at
 * least one replica accepted the push.
 */
async function pushToEveryReplica(urls: string[], push: (url: string) => Promise<unknown>): Promise<boolean> {
  const bound = retrySeconds();
  let deadline = Date.now() + bound * 1000;
  let pending = urls;
  let delivered = 0;
  let backoff = 500;
  const failures = new Map<string, string>();
  for (let attempt = 1; ; attempt++) {
    const outcomes = await Promise.all(pending.map(async (url) => {
      try {
        await push(url);
        if (attempt > 1) console.error(`pushed to ${url} on attempt ${attempt}`);
        delivered++;
        return undefined;
      } catch (e) {
        const error = e as Error;
        const message = error.message.replace(/\s+/g, ' ').trim();
        if (!canPass(error)) {
          console.error(`${url} rejected the push (${message}); not retried: a rejected push will not get better`);
          return undefined;
        }
        if (!failures.has(url)) console.error(`could not push to ${url} (${message}); retrying for up to ${bound} s`);
        failures.set(url, message);
        return url;
      }
    }));
    pending = outcomes.filter((url): url is string => url !== undefined);
    const now = Date.now();
    if (delivered > 0) deadline = Math.min(deadline, now + REPLICA_GRACE_MS);
    if (pending.length === 0 || now >= deadline) {
      const still = pending.map((url) => `\n  ${url}: ${failures.get(url)}`).join('');
      if (delivered === 0) console.error(`the result was not delivered${still ? ` after ${attempt} attempts:${still}` : ''}`);
      else if (still) console.error(`delivered to ${delivered} of ${urls.length} Pushgateway replicas; still failing after ${attempt} attempts:${still}`);
      return delivered > 0;
    }
    // Half the backoff plus a random part of the other half, so that many jobs do not retry in lockstep.
    const delay = Math.min(backoff / 2 + Math.random() * (backoff / 2), deadline - now);
    await new Promise((resolve) => setTimeout(resolve, delay));
    backoff = Math.min(backoff * 2, 15_000);
  }
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
