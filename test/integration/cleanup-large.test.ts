import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pushgateway } from '../../lib';
import { findBinary } from '../helpers/binaries';
import { runCommand } from '../helpers/processes';
import { groupCount, peakRss, startOnStore, status } from '../helpers/pushgateway-fill';
import { synth } from '../helpers/synth';

const PROGRAM = path.join(__dirname, '..', '..', 'lib', 'cleanup', 'pushgateway-cleanup.js');
const binary = findBinary('prometheus-pushgateway', 'prometheus-pushgateway');

// What the shipped wrapper pushes at the end of a successful run.
const WRAPPER_RESULT = 'batch_job_success 1\nbatch_job_duration_seconds 12.5\nbatch_job_last_success_timestamp_seconds 1.7e9\n'
  + 'batch_job_running 0\nbatch_job_exit_code 0\nbatch_job_exit_signal 0\n';

/** The Pushgateway container as the library synthesizes it by default. */
function defaultContainer(): any {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'monitoring' });
  new Pushgateway(chart, 'Pushgateway');
  return synth(chart).find('Deployment').spec.template.spec.containers[0];
}

/** A Kubernetes memory quantity in MiB (the library writes Mi or Gi). */
function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** The container's environment as the process gets it (GOMEMLIMIT, ...). */
function containerEnv(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
}

interface Run { code: number | null; report: any; stderr: string; seconds: number }

async function cleanup(args: string[]): Promise<Run> {
  const started = Date.now();
  const result = await runCommand(process.execPath, [PROGRAM, '--json', ...args], { PATH: process.env.PATH ?? '' });
  return { code: result.code, report: JSON.parse(result.stdout || '{}'), stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!binary)('pushgateway-cleanup on a Pushgateway holding 15,000 groups', () => {
  const GROUPS = 15_000;
  const container = defaultContainer();
  const limitMiB = mebibytes(container.resources.limits.memory);
  let pgw: Awaited<ReturnType<typeof startOnStore>>;

  beforeAll(async () => {
    // Per-run job_id groups of 10 declared jobs, the shape the README shows and the one that piles up.
    const paths = Array.from({ length: GROUPS }, (_, i) => `job/per-run-${i % 10}/job_id/run-${i}`);
    // With the environment the construct gives the container.
    pgw = await startOnStore(binary!, paths, () => WRAPPER_RESULT, containerEnv(container));
    await sleep(1500);
  }, 240_000);
  afterAll(() => pgw?.dispose());

  it('keeps the Pushgateway below 75 % of the library\'s memory limit while it cleans', async () => {
    expect(await groupCount(pgw.url)).toBe(GROUPS);
    const before = status(pgw.pid, 'VmRSS');
    const peak = peakRss(pgw.pid);
    // Deletes the superseded runs of one declared job (1,499 groups), reading all 15,000 each time.
    const run = await cleanup(['--url', pgw.url, '--max-age', '7d', '--superseded-after', '1s', '--job', 'per-run-0',
      ...Array.from({ length: 10 }, (_, i) => `--declared-job=per-run-${i}`)]);
    const { peakMiB } = peak.stop();
    process.stdout.write(`15,000 groups: Pushgateway RSS ${before.toFixed(0)} MiB before, peak ${peakMiB.toFixed(0)} MiB while the cleanup ran `
      + `(limit ${limitMiB} Mi, 75 % = ${(limitMiB * 0.75).toFixed(0)} MiB); cleanup ${run.seconds.toFixed(1)} s, `
      + `${run.report.relists} re-reads, race window ${run.report.raceWindowSeconds} s\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ listed: GROUPS, superseded: GROUPS / 10 - 1, deleted: GROUPS / 10 - 1, newest: 1, failed: 0 });
    expect(peakMiB).toBeLessThan(limitMiB * 0.75);
    expect(await groupCount(pgw.url)).toBe(GROUPS - (GROUPS / 10 - 1));
  }, 240_000);
});

describe.skipIf(!binary)('pushes made while a cleanup of thousands of groups runs', () => {
  let pgw: Awaited<ReturnType<typeof startOnStore>>;

  beforeAll(async () => {
    // 3,000 per-run groups of the declared job `nightly`, 1,000 groups of undeclared jobs, and the
    // one group of the declared job `weekly`: all of them older than the cleanup's limits below.
    const paths = [
      ...Array.from({ length: 3000 }, (_, i) => `job/nightly/job_id/run-${String(i).padStart(4, '0')}`),
      ...Array.from({ length: 1000 }, (_, i) => `job/gone-${i}/instance/host`),
      'job/weekly',
    ];
    pgw = await startOnStore(binary!, paths, () => WRAPPER_RESULT);
    await sleep(3000);
  }, 240_000);
  afterAll(() => pgw?.dispose());

  it('keeps them: a new run\'s group, and the declared job\'s group it cleans around; reports the race window', async () => {
    const running = cleanup(['--url', pgw.url, '--max-age', '2s', '--superseded-after', '2s', '--declared-job', 'nightly',
      '--declared-job', 'weekly', '--concurrency', '2']);
    // Pushed once the cleanup is deleting.
    for (let i = 0; (await groupCount(pgw.url)) >= 4001; i++) {
      if (i > 600) throw new Error('the cleanup never started deleting');
      await sleep(50);
    }
    const pushedAt = Date.now();
    for (const p of ['job/nightly/job_id/run-new', 'job/weekly']) {
      const res = await fetch(`${pgw.url}/metrics/${p}`, { method: 'PUT', body: WRAPPER_RESULT });
      expect(res.status, await res.text()).toBe(200);
    }
    const run = await running;
    process.stdout.write(`race: cleanup of ${run.report.deleted} groups took ${run.seconds.toFixed(1)} s, pushes made `
      + `${((Date.now() - pushedAt) / 1000).toFixed(1)} s before its end were kept; ${run.report.relists} re-reads, race window ${run.report.raceWindowSeconds} s\n`);
    expect(run.code, run.stderr).toBe(0);
    const left = await (await fetch(`${pgw.url}/metrics`)).text();
    expect(left).toMatch(/^push_time_seconds\{instance="",job="nightly",job_id="run-new"\} /m);
    expect(left).toMatch(/^push_time_seconds\{instance="",job="weekly"\} /m);
    // Every superseded run and every undeclared group went; the newest result before the new run
    // may have been read as the newest, and kept.
    expect(run.report.deleted).toBeGreaterThanOrEqual(2999 + 1000);
    expect(await groupCount(pgw.url)).toBeLessThanOrEqual(3);
    // The measured window: no DELETE came later than one reading plus --relist-after (5 s) after the reading it was decided on.
    expect(run.report.raceWindowSeconds).toBeGreaterThan(0);
  }, 240_000);
});
