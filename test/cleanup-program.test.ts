import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const PROGRAM = path.join(__dirname, '..', 'lib', 'cleanup', 'pushgateway-cleanup.js');
// The program is plain CommonJS without type declarations: load it as such.
const cleanup = createRequire(import.meta.url)(PROGRAM) as {
  EXIT_USAGE: number;
  OPTIONS: Array<{ env: string; flag: string }>;
  HELP: string;
  parseArgs(argv: string[], env?: Record<string, string>): any;
  parseDuration(text: string, what: string): number;
  formatDuration(seconds: number): string;
  encodeLabel(name: string, value: string): string;
  groupPath(labels: Record<string, string>): string;
  describeGroup(labels: Record<string, string>): string;
  groupPaths(group: any): string[];
  lastPushTime(group: any): number | undefined;
  planCleanup(groups: any[], criteria: {
    maxAgeSeconds: number; supersededAfterSeconds?: number; jobs?: string[]; excludeJobs?: string[]; declaredJobs?: string[];
  }, now: number): any;
  parseSample(text: string): { labels: Record<string, string>; value: number };
  groupParser(): { write(chunk: string): void; end(): any[] };
  parseDeclaredJobs(text: string): string[];
  runMetrics(run: { success: boolean; durationSeconds: number; finishedAt: number; deleted: number; retries: number; errors: number }): string;
};

/** A group as the reading of /metrics returns it. */
function group(labels: Record<string, string>, pushTime?: number, failureTime = 0, hasResult = false): any {
  return { labels, hasResult, ...(pushTime === undefined ? {} : { pushTime, failureTime }) };
}

describe('grouping-key URL encoding', () => {
  it('keeps plain values readable', () => {
    expect(cleanup.encodeLabel('job', 'daily-backup')).toBe('job/daily-backup');
    expect(cleanup.groupPath({ job: 'daily-backup' })).toBe('/metrics/job/daily-backup');
  });

  it('writes every label of the grouping key, job first, the rest sorted', () => {
    expect(cleanup.groupPath({ tenant: 'a', job: 'etl', instance: 'pod-1', env: 'prod' }))
      .toBe('/metrics/job/etl/env/prod/instance/pod-1/tenant/a');
  });

  it('encodes a value with "/" as URL-safe base64', () => {
    expect(cleanup.encodeLabel('path', '/var/tmp')).toBe('path@base64/L3Zhci90bXA');
    // '/~~~' is 'L35+fg==' in standard base64: URL-safe uses '-' and drops the padding.
    expect(cleanup.encodeLabel('path', '/~~~')).toBe('path@base64/L35-fg');
  });

  it('encodes an empty value as "="', () => {
    expect(cleanup.encodeLabel('instance', '')).toBe('instance@base64/=');
    expect(cleanup.groupPath({ job: 'x', first: '', second: 'foo' })).toBe('/metrics/job/x/first@base64/=/second/foo');
  });

  it('encodes a job that needs base64 in the job@base64 form', () => {
    expect(cleanup.groupPath({ job: 'team/etl' })).toBe('/metrics/job@base64/dGVhbS9ldGw');
  });

  it('percent-encodes unicode and reserved characters, and base64-encodes dot segments', () => {
    expect(cleanup.encodeLabel('instance', 'été')).toBe('instance/%C3%A9t%C3%A9');
    expect(cleanup.encodeLabel('q', 'a b?c#d%')).toBe('q/a%20b%3Fc%23d%25');
    expect(cleanup.encodeLabel('q', '..')).toBe('q@base64/Li4');
    expect(cleanup.encodeLabel('q', '.')).toBe('q@base64/Lg');
  });

  it('fails for a label name the URL cannot carry without UTF-8 escaping', () => {
    expect(() => cleanup.groupPath({ job: 'x', 'foo.bar': 'y' })).toThrow(/label name "foo.bar"/);
  });

  it('describes a group with job first', () => {
    expect(cleanup.describeGroup({ z: '1', job: 'a', b: '' })).toBe('{job="a",b="",z="1"}');
  });
});

describe('age logic', () => {
  const now = 1_000_000;
  const criteria = { maxAgeSeconds: 100 };

  it('dates a group by its latest push attempt, successful or failed', () => {
    expect(cleanup.lastPushTime(group({ job: 'a' }, 500, 0))).toBe(500);
    expect(cleanup.lastPushTime(group({ job: 'a' }, 500, 900))).toBe(900);
    // A group created by a rejected push has push_time_seconds 0.
    expect(cleanup.lastPushTime(group({ job: 'a' }, 0, 900))).toBe(900);
    expect(cleanup.lastPushTime(group({ job: 'a' }))).toBeUndefined();
    expect(cleanup.lastPushTime(group({ job: 'a' }, 0, 0))).toBeUndefined();
  });

  it('deletes only groups strictly older than max age, oldest first', () => {
    const plan = cleanup.planCleanup([
      group({ job: 'b' }, now - 101),
      group({ job: 'edge' }, now - 100),
      group({ job: 'fresh' }, now - 5),
      group({ job: 'a' }, now - 5000),
      group({ job: 'a', instance: 'x' }, now - 5000),
    ], criteria, now);
    expect(plan.delete.map((g: any) => cleanup.describeGroup(g.labels))).toEqual(['{job="a",instance="x"}', '{job="a"}', '{job="b"}']);
    expect(plan.delete.every((g: any) => g.reason === 'max-age')).toBe(true);
    expect(plan.fresh.map((g: any) => g.labels.job)).toEqual(['edge', 'fresh']);
    expect(plan.delete[0].ageSeconds).toBe(5000);
  });

  it('keeps a stale group whose recent push failed', () => {
    const plan = cleanup.planCleanup([group({ job: 'a' }, now - 5000, now - 10)], criteria, now);
    expect(plan.delete).toEqual([]);
    expect(plan.fresh).toHaveLength(1);
  });

  it('never deletes excluded jobs, or jobs outside --job', () => {
    const groups = [group({ job: 'a' }, 1), group({ job: 'b' }, 1), group({ job: 'c' }, 1)];
    expect(cleanup.planCleanup(groups, { ...criteria, excludeJobs: ['b'] }, now).delete.map((g: any) => g.labels.job)).toEqual(['a', 'c']);
    const only = cleanup.planCleanup(groups, { ...criteria, jobs: ['b', 'c'], excludeJobs: ['c'] }, now);
    expect(only.delete.map((g: any) => g.labels.job)).toEqual(['b']);
    expect(only.excluded).toHaveLength(2);
  });

  it('never deletes a group it cannot date', () => {
    const plan = cleanup.planCleanup([group({ job: 'a' })], criteria, now);
    expect(plan.delete).toEqual([]);
    expect(plan.undated).toHaveLength(1);
  });
});

describe('declared jobs', () => {
  const now = 10_000_000;
  const criteria = { maxAgeSeconds: 100, supersededAfterSeconds: 60, declaredJobs: ['weekly', 'per-run', 'multi'] };
  const keys = (groups: any[]) => groups.map((g: any) => cleanup.describeGroup(g.labels)).sort();

  it('keeps the only group of a declared job whatever its age; an undeclared one goes by age', () => {
    const plan = cleanup.planCleanup([group({ job: 'weekly' }, now - 30 * 86_400, 0, true), group({ job: 'other' }, now - 30 * 86_400)], criteria, now);
    expect(keys(plan.newest)).toEqual(['{job="weekly"}']);
    expect(keys(plan.delete)).toEqual(['{job="other"}']);
  });

  it('deletes superseded per-run groups past the margin, keeps the newest and the newest with a result', () => {
    const plan = cleanup.planCleanup([
      group({ job: 'per-run', job_id: 'r1' }, now - 5000, 0, true),
      group({ job: 'per-run', job_id: 'r2' }, now - 4000, 0, true),
      // The newest result: kept while r4, a run still going (start push only), is newer.
      group({ job: 'per-run', job_id: 'r3' }, now - 3000, 0, true),
      group({ job: 'per-run', job_id: 'r4' }, now - 2000, 0, false),
    ], criteria, now);
    expect(keys(plan.delete)).toEqual(['{job="per-run",job_id="r1"}', '{job="per-run",job_id="r2"}']);
    expect(plan.delete.every((g: any) => g.reason === 'superseded')).toBe(true);
    expect(keys(plan.newest)).toEqual(['{job="per-run",job_id="r3"}', '{job="per-run",job_id="r4"}']);
  });

  it('keeps a superseded group younger than the margin', () => {
    const plan = cleanup.planCleanup([
      group({ job: 'per-run', job_id: 'r1' }, now - 30, 0, true),
      group({ job: 'per-run', job_id: 'r2' }, now - 10, 0, true),
    ], criteria, now);
    expect(plan.delete).toEqual([]);
    expect(keys(plan.fresh)).toEqual(['{job="per-run",job_id="r1"}']);
  });

  it('judges the newest group per batch_container', () => {
    const plan = cleanup.planCleanup([
      group({ job: 'multi', batch_container: 'a', job_id: 'r1' }, now - 5000, 0, true),
      group({ job: 'multi', batch_container: 'a', job_id: 'r2' }, now - 4000, 0, true),
      group({ job: 'multi', batch_container: 'b', job_id: 'r1' }, now - 9000, 0, true),
    ], criteria, now);
    expect(keys(plan.delete)).toEqual(['{job="multi",batch_container="a",job_id="r1"}']);
    expect(keys(plan.newest)).toEqual(['{job="multi",batch_container="a",job_id="r2"}', '{job="multi",batch_container="b",job_id="r1"}']);
  });

  it('reads a declared-jobs file: one name a line, blank lines skipped', () => {
    expect(cleanup.parseDeclaredJobs('a\n\n  b \nteam/etl\n')).toEqual(['a', 'b', 'team/etl']);
  });
});

describe('durations', () => {
  it('parses units from ms to weeks, combined', () => {
    expect(cleanup.parseDuration('7d', 'x')).toBe(7 * 86_400_000);
    expect(cleanup.parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(cleanup.parseDuration('500ms', 'x')).toBe(500);
    expect(cleanup.parseDuration('2w', 'x')).toBe(14 * 86_400_000);
    expect(cleanup.parseDuration('1.5s', 'x')).toBe(1500);
  });

  it.each(['7', '', '1x', '-1d', 'd', '1d 2h', '7days'])('fails for the duration %j', (text) => {
    expect(() => cleanup.parseDuration(text, 'option --max-age')).toThrow(/option --max-age: invalid duration .*use a number with a unit/);
  });

  it('formats seconds largest unit first', () => {
    expect(cleanup.formatDuration(694_861)).toBe('8d1h1m1s');
    expect(cleanup.formatDuration(0.4)).toBe('0s');
  });
});

describe('arguments and environment', () => {
  const required = ['--url', 'http://pg:9091', '--max-age', '7d'];

  it('reads flags, with defaults for the rest', () => {
    expect(cleanup.parseArgs(required)).toEqual({
      urls: ['http://pg:9091'], maxAge: 604_800_000, dryRun: false, jobs: [], excludeJobs: [], json: false,
      concurrency: 4, timeout: 10_000, retries: 3, relistAfter: 5_000, pushMetrics: false, declaredJobs: [], supersededAfter: 3_600_000,
    });
  });

  it('reads every option from the environment', () => {
    const options = cleanup.parseArgs([], {
      PUSHGATEWAY_URL: 'https://pg.example.com/prefix/', CLEANUP_MAX_AGE: '36h', CLEANUP_DRY_RUN: 'true',
      CLEANUP_JOBS: 'a, b', CLEANUP_EXCLUDE_JOBS: 'c', CLEANUP_JSON: '1', CLEANUP_CONCURRENCY: '8', CLEANUP_TIMEOUT: '3s',
      CLEANUP_RETRIES: '0', CLEANUP_RELIST_AFTER: '1m', PUSHGATEWAY_CA_FILE: '/etc/ca.crt', PUSHGATEWAY_USERNAME: 'u',
      PUSHGATEWAY_PASSWORD: 'p', CLEANUP_PUSH_METRICS: 'yes', CLEANUP_DECLARED_JOBS: 'd1,d2', CLEANUP_DECLARED_JOBS_FILE: '/etc/jobs',
      CLEANUP_SUPERSEDED_AFTER: '10m',
    });
    expect(options).toEqual({
      urls: ['https://pg.example.com/prefix'], maxAge: 129_600_000, dryRun: true, jobs: ['a', 'b'], excludeJobs: ['c'], json: true,
      concurrency: 8, timeout: 3000, retries: 0, relistAfter: 60_000, caFile: '/etc/ca.crt', username: 'u', password: 'p', pushMetrics: true,
      declaredJobs: ['d1', 'd2'], declaredJobsFile: '/etc/jobs', supersededAfter: 600_000,
    });
  });

  it('lets flags win over the environment, and repeats list flags', () => {
    const options = cleanup.parseArgs(
      [...required, '--exclude-job', 'x', '--exclude-job=y', '--no-push-metrics', '--dry-run=false'],
      { CLEANUP_EXCLUDE_JOBS: 'z', CLEANUP_PUSH_METRICS: 'true', CLEANUP_DRY_RUN: 'true', CLEANUP_MAX_AGE: '1s' },
    );
    expect(options.excludeJobs).toEqual(['x', 'y']);
    expect(options.pushMetrics).toBe(false);
    expect(options.dryRun).toBe(false);
    expect(options.maxAge).toBe(604_800_000);
  });

  it('takes one URL per replica: --url repeated, else PUSHGATEWAY_URLS, else PUSHGATEWAY_URL', () => {
    const env = { PUSHGATEWAY_URLS: 'http://pg-0.pg:9091, http://pg-1.pg:9091/', PUSHGATEWAY_URL: 'http://pg:9091', CLEANUP_MAX_AGE: '1d' };
    expect(cleanup.parseArgs([], env).urls).toEqual(['http://pg-0.pg:9091', 'http://pg-1.pg:9091']);
    expect(cleanup.parseArgs([], { ...env, PUSHGATEWAY_URLS: '' }).urls).toEqual(['http://pg:9091']);
    expect(cleanup.parseArgs(['--url', 'http://a', '--url=http://b'], env).urls).toEqual(['http://a', 'http://b']);
  });

  it('takes the time to measure ages from, in Unix seconds with a fraction, from --now or CLEANUP_NOW', () => {
    expect(cleanup.parseArgs([...required, '--now', '1767225600.25']).now).toBe(1_767_225_600.25);
    expect(cleanup.parseArgs(required, { CLEANUP_NOW: '1767225600' }).now).toBe(1_767_225_600);
    expect(cleanup.parseArgs(required).now).toBeUndefined();
  });

  it('documents every option and its variable in --help', () => {
    expect(cleanup.parseArgs(['--help'])).toEqual({ help: true });
    for (const option of cleanup.OPTIONS) {
      expect(cleanup.HELP).toContain(option.flag);
      expect(cleanup.HELP).toContain(option.env);
    }
    expect(cleanup.HELP).toContain('PUSHGATEWAY_PASSWORD');
  });

  it.each([
    ['a missing URL', ['--max-age', '7d'], {}, /missing --url \(or PUSHGATEWAY_URLS, or PUSHGATEWAY_URL\)/],
    ['a URL given twice', ['--max-age', '7d', '--url', 'http://pg/', '--url', 'http://pg'], {}, /URL http:\/\/pg is given twice/],
    ['a bad URL among the replicas', ['--max-age', '7d'], { PUSHGATEWAY_URLS: 'http://a,ftp://b' }, /PUSHGATEWAY_URLS: invalid URL "ftp:\/\/b"/],
    ['a CA file with one http URL among https', ['--url', 'https://a', '--url', 'http://b', '--max-age', '1d', '--ca-file', '/ca.crt'], {}, /the URL is http:\/\/b/],
    ['a missing max age', ['--url', 'http://pg'], {}, /missing --max-age \(or CLEANUP_MAX_AGE\)/],
    ['an unknown option', [...required, '--force'], {}, /unknown option --force/],
    ['a positional argument', [...required, 'extra'], {}, /unexpected argument "extra"/],
    ['a flag without its value', ['--url'], {}, /option --url needs a value/],
    ['a URL that is not http', ['--url', 'ftp://pg', '--max-age', '1d'], {}, /invalid URL "ftp:\/\/pg": use an http/],
    ['a URL that is not a URL', ['--url', 'pg:9091:x', '--max-age', '1d'], {}, /invalid URL/],
    ['credentials in the URL', ['--url', 'http://u:p@pg', '--max-age', '1d'], {}, /must not carry credentials: set PUSHGATEWAY_USERNAME/],
    ['a zero max age', ['--url', 'http://pg', '--max-age', '0s'], {}, /greater than zero/],
    ['a password without a user', required, { PUSHGATEWAY_PASSWORD: 'p' }, /PUSHGATEWAY_PASSWORD is set but no user name/],
    ['a user without a password', [...required, '--username', 'u'], {}, /PUSHGATEWAY_PASSWORD is not set/],
    ['a CA file with an http URL', [...required, '--ca-file', '/ca.crt'], {}, /only used for https URLs/],
    ['a job both included and excluded', [...required, '--job', 'a', '--exclude-job', 'a'], {}, /job "a" is both included/],
    ['a concurrency out of range', [...required, '--concurrency', '0'], {}, /from 1 to 64/],
    ['a concurrency that is not a number', [...required, '--concurrency', '4x'], {}, /invalid number "4x"/],
    ['a bad boolean in the environment', required, { CLEANUP_DRY_RUN: 'maybe' }, /CLEANUP_DRY_RUN: invalid boolean "maybe"/],
    ['a bad duration in the environment', ['--url', 'http://pg'], { CLEANUP_MAX_AGE: '7' }, /CLEANUP_MAX_AGE: invalid duration "7"/],
    ['a time that is not Unix seconds', [...required, '--now', '2026-12-05'], {}, /option --now: invalid time "2026-12-05": use Unix seconds/],
    ['a time of zero', required, { CLEANUP_NOW: '0' }, /CLEANUP_NOW: invalid time "0"/],
  ])('fails for %s', (_what, argv, env, message) => {
    expect(() => cleanup.parseArgs(argv as string[], env as Record<string, string>)).toThrow(message);
  });
});

describe('reading /metrics', () => {
  // As the Pushgateway writes it, cut into chunks at awkward places.
  const body = [
    '# HELP batch_job_success 1 if the last run succeeded',
    '# TYPE batch_job_success gauge',
    'batch_job_success{instance="",job="a"} 1',
    'batch_job_success{extra="x",instance="h",job="b",job_id="r1"} 0',
    'pushgateway_build_info{version="1.11.2"} 1',
    'push_failure_time_seconds{instance="",job="a"} 0',
    'push_failure_time_seconds{instance="h",job="b",job_id="r1"} 0',
    'push_failure_time_seconds{instance="",job="c",path="/var/\\"x\\"\\\\n"} 0',
    'push_time_seconds{instance="",job="a"} 1.7e+09',
    'push_time_seconds{instance="h",job="b",job_id="r1"} 1.8e+09',
    'push_time_seconds{instance="",job="c",path="/var/\\"x\\"\\\\n"} 1.9e+09',
  ].join('\n');

  it('keeps one record per group from the push time lines, in any chunking', () => {
    for (const size of [1, 7, 64, body.length]) {
      const parser = cleanup.groupParser();
      for (let i = 0; i < body.length; i += size) parser.write(body.slice(i, i + size));
      const groups = parser.end();
      expect(groups).toEqual([
        { labels: { job: 'a' }, pushTime: 1.7e9, failureTime: 0, hasResult: true, emptyInstance: true },
        { labels: { instance: 'h', job: 'b', job_id: 'r1' }, pushTime: 1.8e9, failureTime: 0, hasResult: true },
        { labels: { job: 'c', path: '/var/"x"\\n' }, pushTime: 1.9e9, failureTime: 0, hasResult: false, emptyInstance: true },
      ]);
    }
  });

  it('deletes a group shown with an empty instance in both forms of its key', () => {
    expect(cleanup.groupPaths({ labels: { job: 'a' }, emptyInstance: true })).toEqual(['/metrics/job/a', '/metrics/job/a/instance@base64/=']);
    expect(cleanup.groupPaths({ labels: { job: 'a', instance: 'h' } })).toEqual(['/metrics/job/a/instance/h']);
  });

  it('reads a quoted label name', () => {
    expect(cleanup.parseSample('{"a.b"="x",job="j"} 2')).toEqual({ labels: { 'a.b': 'x', job: 'j' }, value: 2 });
  });

  it.each([
    ['a web page', '<html>not the Pushgateway</html>', /no pushgateway_build_info: is the URL the Pushgateway's base URL/],
    ['a malformed line', 'pushgateway_build_info 1\npush_time_seconds{job="a" 1', /cannot read the line/],
    ['a group without job', 'pushgateway_build_info 1\npush_time_seconds{instance=""} 1', /a group has no job label/],
  ])('fails for %s', (_what, text, message) => {
    const parser = cleanup.groupParser();
    expect(() => {
      parser.write(text);
      parser.end();
    }).toThrow(message);
  });
});

describe('run metrics', () => {
  const run = { durationSeconds: 1.5, finishedAt: 1_700_000_000, deleted: 3, retries: 1, errors: 0 };

  it('pushes the last success timestamp on success only', () => {
    const ok = cleanup.runMetrics({ ...run, success: true });
    expect(ok).toContain('batch_job_success 1\n');
    expect(ok).toContain('batch_job_last_success_timestamp_seconds 1700000000\n');
    expect(ok).toContain('batch_job_records_processed 3\n');
    expect(ok).toContain('# TYPE batch_job_retries_total counter\nbatch_job_retries_total 1\n');
    const failed = cleanup.runMetrics({ ...run, success: false, errors: 2 });
    expect(failed).toContain('batch_job_success 0\n');
    expect(failed).not.toContain('batch_job_last_success_timestamp_seconds');
    expect(failed).toContain('batch_job_errors_total 2\n');
  });
});

describe('the command', () => {
  it('prints help and exits 0', () => {
    expect(execFileSync(process.execPath, [PROGRAM, '--help'], { encoding: 'utf8' })).toMatch(/^Usage: pushgateway-cleanup --url URL --max-age DURATION/);
  });

  it('fails with exit code 2 and a fix on a usage error', () => {
    const result = spawnSync(process.execPath, [PROGRAM, '--url', 'http://127.0.0.1:9'], { encoding: 'utf8', env: {} });
    expect(result.status).toBe(cleanup.EXIT_USAGE);
    expect(result.stderr).toContain('missing --max-age (or CLEANUP_MAX_AGE)');
  });

  it('fails with exit code 2 when the CA file cannot be read', () => {
    const result = spawnSync(process.execPath, [PROGRAM, '--url', 'https://127.0.0.1:9', '--max-age', '1d', '--ca-file', '/nonexistent/ca.crt'], { encoding: 'utf8', env: {} });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cannot read the CA file /nonexistent/ca.crt');
  });
});
