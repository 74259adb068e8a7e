#!/usr/bin/env node
'use strict';
// pushgateway-cleanup: deletes Pushgateway groups that nobody has pushed to for longer than a
// maximum age. The Pushgateway keeps every group forever (upstream refuses a TTL), so groups of
// finished, renamed or per-run jobs pile up unless something reclaims them.
//
// This one file is the `pushgateway-cleanup` command, the program the CleanupCronJob mounts from a
// ConfigMap, and what the tests run. It uses Node built-ins only and imports nothing else.
//
// The race it cannot close: the Pushgateway API has no conditional delete, so a group pushed again
// between the listing and its DELETE loses that push (the job's next push recreates it). The
// program narrows the window: ages are measured on the Pushgateway's own clock (its Date header),
// from the latest push attempt (successful or failed); the oldest groups are deleted first; and no
// DELETE is sent from a listing older than --relist-after: the groups are listed again and only
// those still stale are deleted. What remains is a push that lands in the few milliseconds between
// a group's last listing and its DELETE, to a group that had been silent for longer than max age.
//
// A Pushgateway with replicas has no replication: each replica holds the groups pushed to it. With
// several URLs (--url repeated, or PUSHGATEWAY_URLS) every replica is listed and cleaned on its own,
// one after the other; a replica that cannot be read is reported and the others are still cleaned.

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');

const EXIT_OK = 0;
const EXIT_DELETE_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_UNREADABLE = 3;

const METRICS_JOB = 'pushgateway-cleanup';

/** Every option: its flag, the environment variable that sets it too, and its default. */
const OPTIONS = [
  { key: 'urls', flag: '--url', env: 'PUSHGATEWAY_URLS', fallbackEnv: 'PUSHGATEWAY_URL', type: 'urls', arg: 'URL',
    help: 'Base URL of the Pushgateway, with its route prefix if any (required), e.g. http://pushgateway.monitoring.svc:9091; '
      + 'repeat it (env: PUSHGATEWAY_URLS, comma-separated) for one URL per replica, each cleaned on its own' },
  { key: 'maxAge', flag: '--max-age', env: 'CLEANUP_MAX_AGE', type: 'duration', arg: 'DURATION',
    help: 'Delete groups whose latest push is older than this (required), e.g. 7d, 36h, 90m' },
  { key: 'dryRun', flag: '--dry-run', env: 'CLEANUP_DRY_RUN', type: 'boolean', def: false,
    help: 'List what would be deleted; delete nothing' },
  { key: 'jobs', flag: '--job', env: 'CLEANUP_JOBS', type: 'list', arg: 'NAME', def: [],
    help: 'Only consider groups of this job (repeatable; env: comma-separated)' },
  { key: 'excludeJobs', flag: '--exclude-job', env: 'CLEANUP_EXCLUDE_JOBS', type: 'list', arg: 'NAME', def: [],
    help: 'Never delete groups of this job (repeatable; env: comma-separated); wins over --job' },
  { key: 'json', flag: '--json', env: 'CLEANUP_JSON', type: 'boolean', def: false,
    help: 'Print one JSON document instead of text lines' },
  { key: 'concurrency', flag: '--concurrency', env: 'CLEANUP_CONCURRENCY', type: 'integer', arg: 'N', def: 4, min: 1, max: 64,
    help: 'DELETE requests in flight at once (1-64)' },
  { key: 'timeout', flag: '--timeout', env: 'CLEANUP_TIMEOUT', type: 'duration', arg: 'DURATION', def: 10_000,
    help: 'Time limit of each HTTP request' },
  { key: 'retries', flag: '--retries', env: 'CLEANUP_RETRIES', type: 'integer', arg: 'N', def: 3, min: 0, max: 10,
    help: 'Retries of a request after a network error or a 5xx answer, with exponential backoff (0-10)' },
  { key: 'relistAfter', flag: '--relist-after', env: 'CLEANUP_RELIST_AFTER', type: 'duration', arg: 'DURATION', def: 30_000,
    help: 'List the groups again before deleting from a listing older than this' },
  { key: 'caFile', flag: '--ca-file', env: 'PUSHGATEWAY_CA_FILE', type: 'string', arg: 'PATH',
    help: 'PEM file of the CA(s) that signed the Pushgateway certificate (https URLs)' },
  { key: 'username', flag: '--username', env: 'PUSHGATEWAY_USERNAME', type: 'string', arg: 'NAME',
    help: 'Basic-auth user name; the password comes from PUSHGATEWAY_PASSWORD only' },
  { key: 'now', flag: '--now', env: 'CLEANUP_NOW', type: 'timestamp', arg: 'UNIX_SECONDS',
    help: "Measure ages from this time instead of the Pushgateway's clock: for tests, or with --dry-run to see what a later run would delete" },
  { key: 'pushMetrics', flag: '--push-metrics', negated: '--no-push-metrics', env: 'CLEANUP_PUSH_METRICS', type: 'boolean', def: false,
    help: `POST this run's batch_job_* metrics to the Pushgateway as job "${METRICS_JOB}"` },
];

const HELP = `Usage: pushgateway-cleanup --url URL --max-age DURATION [options]

Deletes every Prometheus Pushgateway group whose latest push (push_time_seconds, or
push_failure_time_seconds if later) is older than --max-age. It reads GET /api/v1/metrics once and
sends one DELETE per stale group with its full grouping key, oldest first.

Options (each also set by the environment variable shown; a flag wins over its variable):
${OPTIONS.map((o) => {
    const flag = `${o.flag}${o.arg ? ` ${o.arg}` : ''}${o.negated ? `, ${o.negated}` : ''}`;
    const def = o.def === undefined || (Array.isArray(o.def) && o.def.length === 0) ? '' : ` (default: ${formatDefault(o)})`;
    return `  ${flag.padEnd(34)} ${o.env}${o.fallbackEnv ? `, else ${o.fallbackEnv}` : ''}\n      ${o.help}${def}`;
  }).join('\n')}
  --help                             Show this help

  PUSHGATEWAY_PASSWORD               Basic-auth password (environment only, so it never shows in
                                     a process list); needs PUSHGATEWAY_USERNAME or --username.

Durations: a number with a unit, combined from largest to smallest: ms, s, m, h, d, w (e.g. 7d, 1h30m).
Booleans in the environment: true/false, 1/0, yes/no.

Exit codes:
  0  done (nothing failed; includes a dry run and nothing to delete)
  1  some deletes failed, the run's own metrics could not be pushed, or, with several URLs, some
     replica (not all) could not be read: the others were cleaned
  2  usage error (bad flag, value or variable)
  3  the Pushgateway (with several URLs: every replica) could not be read (unreachable, TLS or
     auth failure, malformed answer)
`;

function formatDefault(option) {
  if (option.type === 'duration') return formatDuration(option.def / 1000);
  return String(option.def);
}

class UsageError extends Error {}

/** A request that failed: `url` and `cause` are both in the message. */
class RequestError extends Error {
  constructor(method, url, cause, status) {
    super(`${method} ${url}: ${cause}`);
    this.status = status;
    // Network errors and 5xx answers are worth retrying; 4xx answers are not.
    this.retryable = status === undefined || status >= 500;
  }
}

// ---------------------------------------------------------------------------------------------
// Pure functions (exported for the unit tests)

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `7d`, `1h30m`, `500ms` into milliseconds; throws a UsageError for anything else. */
function parseDuration(text, what) {
  const trimmed = String(text).trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let ms = 0;
  let matched = 0;
  let match;
  while ((match = re.exec(trimmed)) !== null) {
    ms += Number(match[1]) * DURATION_UNITS[match[2]];
    matched = re.lastIndex;
  }
  if (trimmed === '' || matched !== trimmed.length) {
    throw new UsageError(`${what}: invalid duration ${JSON.stringify(text)}: use a number with a unit (ms, s, m, h, d, w), e.g. 7d or 1h30m`);
  }
  return ms;
}

/** Seconds as a short duration, largest units first: 694861 gives `8d1h1m1s`. */
function formatDuration(seconds) {
  let rest = Math.max(0, Math.floor(seconds));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]]) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

function parseBoolean(text, what) {
  const value = String(text).trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no', ''].includes(value)) return false;
  throw new UsageError(`${what}: invalid boolean ${JSON.stringify(text)}: use true or false`);
}

function parseInteger(text, option, what) {
  const value = Number(String(text).trim());
  if (!/^\s*\d+\s*$/.test(String(text)) || value < option.min || value > option.max) {
    throw new UsageError(`${what}: invalid number ${JSON.stringify(text)}: use a whole number from ${option.min} to ${option.max}`);
  }
  return value;
}

function parseUrl(text, what) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    throw new UsageError(`${what}: invalid URL ${JSON.stringify(text)}: use e.g. http://pushgateway.monitoring.svc:9091`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what}: invalid URL ${JSON.stringify(text)}: use an http:// or https:// URL`);
  }
  if (url.username || url.password) {
    throw new UsageError(`${what}: the URL must not carry credentials: set PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD instead`);
  }
  if (url.search || url.hash) {
    throw new UsageError(`${what}: invalid URL ${JSON.stringify(text)}: remove the query or fragment; give the base URL only`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function parseValue(option, text, what) {
  switch (option.type) {
    case 'url': return parseUrl(text, what);
    case 'duration': {
      const ms = parseDuration(text, what);
      if (ms <= 0) throw new UsageError(`${what}: invalid duration ${JSON.stringify(text)}: use a duration greater than zero`);
      return ms;
    }
    case 'integer': return parseInteger(text, option, what);
    case 'timestamp': {
      const seconds = Number(String(text).trim());
      if (String(text).trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
        throw new UsageError(`${what}: invalid time ${JSON.stringify(text)}: use Unix seconds, e.g. 1767225600`);
      }
      return seconds;
    }
    case 'string': {
      if (String(text).trim() === '') throw new UsageError(`${what}: empty value: give a value or leave the option out`);
      return String(text);
    }
    default: throw new Error(`unknown option type ${option.type}`);
  }
}

/**
 * Reads the options from `argv` (without node and the script) and `env`. Flags win over
 * environment variables; a repeated list flag replaces its variable's list. Throws a UsageError
 * that says what was wrong and how to fix it. Returns `{ help: true }` for --help.
 */
function parseArgs(argv, env = {}) {
  const options = {};
  for (const option of OPTIONS) {
    const name = option.fallbackEnv && !env[option.env] ? option.fallbackEnv : option.env;
    const raw = env[name];
    if (raw === undefined || (raw === '' && option.type !== 'boolean')) continue;
    const what = `environment variable ${name}`;
    if (option.type === 'boolean') options[option.key] = parseBoolean(raw, what);
    else if (option.type === 'urls') options[option.key] = splitList(raw).map((url) => parseUrl(url, what));
    else if (option.type === 'list') options[option.key] = splitList(raw);
    else options[option.key] = parseValue(option, raw, what);
  }

  const fromFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('--')) {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: every option is a --flag; see --help`);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const option = OPTIONS.find((o) => o.flag === name || o.negated === name);
    if (!option) throw new UsageError(`unknown option ${name}: see --help for the options`);
    const what = `option ${name}`;
    if (option.type === 'boolean') {
      fromFlags[option.key] = inline === undefined ? name !== option.negated : parseBoolean(inline, what) === (name !== option.negated);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`${what} needs a value (${option.flag} ${option.arg})`);
      value = argv[++i];
    }
    if (option.type === 'list') {
      if (value === '') throw new UsageError(`${what}: empty job name: give a job name`);
      fromFlags[option.key] = [...(fromFlags[option.key] ?? []), value];
    } else if (option.type === 'urls') {
      fromFlags[option.key] = [...(fromFlags[option.key] ?? []), parseUrl(value, what)];
    } else {
      fromFlags[option.key] = parseValue(option, value, what);
    }
  }
  Object.assign(options, fromFlags);

  for (const option of OPTIONS) {
    if (options[option.key] === undefined && option.def !== undefined) options[option.key] = option.def;
  }
  if (options.urls === undefined || options.urls.length === 0) {
    throw new UsageError('missing --url (or PUSHGATEWAY_URLS, or PUSHGATEWAY_URL): the Pushgateway base URL, e.g. --url http://pushgateway.monitoring.svc:9091');
  }
  const repeated = options.urls.find((url, i) => options.urls.indexOf(url) !== i);
  if (repeated !== undefined) throw new UsageError(`URL ${repeated} is given twice: give each replica once`);
  if (options.maxAge === undefined) throw new UsageError('missing --max-age (or CLEANUP_MAX_AGE): how old a group must be to be deleted, e.g. --max-age 7d');

  const password = env.PUSHGATEWAY_PASSWORD;
  if (password !== undefined && password !== '' && options.username === undefined) {
    throw new UsageError('PUSHGATEWAY_PASSWORD is set but no user name: set PUSHGATEWAY_USERNAME (or --username) too');
  }
  if (options.username !== undefined && (password === undefined || password === '')) {
    throw new UsageError(`user name ${JSON.stringify(options.username)} given but PUSHGATEWAY_PASSWORD is not set: set it (from a Secret), or drop the user name`);
  }
  if (options.username !== undefined) options.password = password;
  const plain = options.urls.find((url) => !url.startsWith('https:'));
  if (options.caFile !== undefined && plain !== undefined) {
    throw new UsageError(`--ca-file (or PUSHGATEWAY_CA_FILE) is only used for https URLs, but the URL is ${plain}: use https:// or drop the CA file`);
  }
  const overlap = options.jobs.filter((job) => options.excludeJobs.includes(job));
  if (overlap.length > 0) {
    throw new UsageError(`job ${JSON.stringify(overlap[0])} is both included (--job) and excluded (--exclude-job): keep one`);
  }
  return options;
}

function splitList(text) {
  return String(text).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One grouping-key value as a URL path segment pair: `name/value` or `name@base64/<base64url>`. */
function encodeLabel(name, value) {
  // A plain or percent-encoded '/' is a path separator to the Pushgateway, and an empty segment
  // ('//') or a trailing '/' is collapsed; '.' and '..' would be cleaned away as path segments.
  // The @base64 form carries all of them: URL-safe base64, and a single '=' for an empty value.
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/') || value === '.' || value === '..') {
    return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  }
  return `${name}/${encodeURIComponent(value)}`;
}

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The path of a group, `/metrics/job/<job>{/<label>/<value>}`, with every label of its grouping key. */
function groupPath(labels) {
  const names = Object.keys(labels).filter((n) => n !== 'job').sort();
  for (const name of names) {
    if (!LEGACY_LABEL_NAME.test(name)) {
      throw new Error(`label name ${JSON.stringify(name)} cannot be written in a push URL without UTF-8 name escaping, which this program does not do`);
    }
  }
  return `/metrics/${encodeLabel('job', labels.job)}${names.map((n) => `/${encodeLabel(n, labels[n])}`).join('')}`;
}

/** A group's grouping key as PromQL-like text, for people: `{job="a",instance="b"}`. */
function describeGroup(labels) {
  const names = ['job', ...Object.keys(labels).filter((n) => n !== 'job').sort()];
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

function sampleValue(group, metric) {
  const family = group[metric];
  if (!family || !Array.isArray(family.metrics) || family.metrics.length === 0) return undefined;
  const value = Number(family.metrics[0].value);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A group's last push attempt in Unix seconds: the later of push_time_seconds and
 * push_failure_time_seconds, so that a group whose recent push was rejected keeps the evidence the
 * push-failure alert reads. Undefined when the group carries neither (it cannot be dated).
 */
function lastPushTime(group) {
  const success = sampleValue(group, 'push_time_seconds');
  const failure = sampleValue(group, 'push_failure_time_seconds');
  if (success === undefined && failure === undefined) return undefined;
  const last = Math.max(success ?? 0, failure ?? 0);
  return last > 0 ? last : undefined;
}

/**
 * Sorts the groups of one listing: `stale` (to delete, oldest first), `fresh`, `excluded` (by
 * job filters) and `undated` (no push time: never deleted). `now` is in Unix seconds.
 */
function planCleanup(groups, { maxAgeSeconds, jobs = [], excludeJobs = [] }, now) {
  const plan = { stale: [], fresh: [], excluded: [], undated: [] };
  for (const group of groups) {
    const labels = group.labels;
    if (excludeJobs.includes(labels.job) || (jobs.length > 0 && !jobs.includes(labels.job))) {
      plan.excluded.push({ labels });
      continue;
    }
    const last = lastPushTime(group);
    if (last === undefined) {
      plan.undated.push({ labels });
      continue;
    }
    const entry = { labels, lastPush: last, ageSeconds: now - last };
    if (entry.ageSeconds > maxAgeSeconds) plan.stale.push(entry);
    else plan.fresh.push(entry);
  }
  plan.stale.sort((a, b) => a.lastPush - b.lastPush || compareText(describeGroup(a.labels), describeGroup(b.labels)));
  return plan;
}

function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Checks the shape of a `GET /api/v1/metrics` answer; returns its groups or throws with the reason. */
function parseGroups(body) {
  let json;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new Error(`the answer is not JSON (${e.message}); is the URL the Pushgateway's base URL?`);
  }
  if (!json || json.status !== 'success') {
    const reason = json && json.error ? `: ${json.error}` : '';
    throw new Error(`the answer's status is ${JSON.stringify(json && json.status)}, not "success"${reason}`);
  }
  if (!Array.isArray(json.data)) throw new Error('the answer has no "data" list of groups');
  for (const group of json.data) {
    if (!group || typeof group.labels !== 'object' || typeof group.labels.job !== 'string' || group.labels.job === '') {
      throw new Error(`a group has no "labels" with a "job": ${JSON.stringify(group && group.labels)}`);
    }
  }
  return json.data;
}

/** The text-format body of the run's own metrics (the metric contract of batch jobs). */
function runMetrics({ success, durationSeconds, finishedAt, deleted, retries, errors }) {
  const gauge = (name, help, value) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
  const counter = (name, help, value) => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}\n`;
  return [
    gauge('batch_job_success', '1 if the last run succeeded, 0 if it failed.', success ? 1 : 0),
    gauge('batch_job_duration_seconds', 'Duration of the last run in seconds.', durationSeconds),
    success ? gauge('batch_job_last_success_timestamp_seconds', 'Unix time of the last successful run.', finishedAt) : '',
    gauge('batch_job_records_processed', 'Records handled by the last run.', deleted),
    counter('batch_job_retries_total', 'Retries in the last run.', retries),
    counter('batch_job_errors_total', 'Errors in the last run.', errors),
  ].join('');
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** An HTTP client of the Pushgateway (replica) at `options.url`. */
function makeClient(options) {
  const ca = options.caFile === undefined ? undefined : fs.readFileSync(options.caFile);
  const agentOptions = { keepAlive: true, maxSockets: options.concurrency, ca };
  const agent = options.url.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const authorization = options.username === undefined ? undefined
    : `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}`;
  const base = new URL(options.url);
  const transport = base.protocol === 'https:' ? https : http;
  const target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port };
  let retries = 0;

  function once(method, path, body, headers) {
    const url = `${options.url}${path}`;
    return new Promise((resolve, reject) => {
      const req = transport.request({
        ...target,
        path: `${base.pathname.replace(/\/$/, '')}${path}`,
        method,
        agent,
        headers: { ...headers, ...(authorization ? { authorization } : {}), ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      }, (res) => {
        // A string, not a list of Buffers: the listing of a large Pushgateway is held once, not twice.
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('error', (e) => fail(new RequestError(method, url, e.message)));
        res.on('end', () => {
          clearTimeout(timer);
          if (res.statusCode >= 200 && res.statusCode < 300) {
            resolve({ status: res.statusCode, headers: res.headers, body: text });
          } else {
            const detail = text.trim().slice(0, 300);
            const hint = res.statusCode === 401 ? ' (check PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD)' : '';
            reject(new RequestError(method, url, `HTTP ${res.statusCode}${detail ? `: ${detail}` : ''}${hint}`, res.statusCode));
          }
        });
      });
      const fail = (error) => {
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new RequestError(method, url, `no answer within ${options.timeout} ms (--timeout)`)), options.timeout);
      req.on('error', (e) => fail(new RequestError(method, url, describeNetworkError(e))));
      req.end(body);
    });
  }

  async function request(method, path, { body, headers } = {}) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(method, path, body, headers);
      } catch (error) {
        if (!error.retryable || attempt >= options.retries) throw error;
        retries++;
        // Exponential backoff with jitter, so that parallel workers do not retry in lockstep.
        const delay = Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return { request, retries: () => retries, close: () => agent.destroy() };
}

function describeNetworkError(error) {
  const text = error.message || String(error);
  if (error.code && !text.includes(error.code)) return `${error.code} ${text}`;
  return text;
}

// ---------------------------------------------------------------------------------------------
// The run

async function list(client, url, clock) {
  const startedAt = clock();
  const res = await client.request('GET', '/api/v1/metrics', { headers: { accept: 'application/json' } });
  let groups;
  try {
    // Only what the age logic reads, so the rest of the parsed listing can be freed at once.
    groups = parseGroups(res.body).map((g) => ({
      labels: g.labels, push_time_seconds: g.push_time_seconds, push_failure_time_seconds: g.push_failure_time_seconds,
    }));
  } catch (e) {
    throw new RequestError('GET', `${url}/api/v1/metrics`, e.message, res.status);
  }
  // push_time_seconds comes from the Pushgateway's clock; so does its Date header. Measuring ages
  // on it keeps a skewed local clock from making fresh groups look old. The header has whole
  // seconds, truncated, which can only make a group look younger.
  const serverNow = Date.parse(res.headers.date ?? '');
  return { groups, now: Number.isFinite(serverNow) ? serverNow / 1000 : Date.now() / 1000, listedAt: startedAt };
}

async function runPool(items, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Runs the cleanup on every URL of `options.urls` (one per replica), each on its own; returns the
 * exit code. `out` and `err` take whole lines.
 */
async function run(options, { out, err = (l) => process.stderr.write(`${l}\n`), clock = () => performance.now() } = {}) {
  const startedAt = clock();
  const stdout = out ? undefined : lineWriter(process.stdout);
  out = out ?? stdout.write;
  // With several replicas every line names the one it is about.
  const prefix = (url) => (options.urls.length > 1 ? `${url}: ` : '');
  const replicas = options.urls.map((url) => {
    const replica = { options: { ...options, url }, client: makeClient({ ...options, url }) };
    replica.report = {
      url, dryRun: options.dryRun, maxAgeSeconds: options.maxAge / 1000,
      listed: 0, stale: 0, deleted: 0, failed: 0, fresh: 0, excluded: 0, undated: 0, relists: 0,
      read: false, groups: [], warnings: [], errors: [],
    };
    replica.say = (line) => { if (!options.json) out(`${prefix(url)}${line}`); };
    replica.warn = (message) => {
      replica.report.warnings.push(message);
      if (!options.json) err(`pushgateway-cleanup: ${prefix(url)}warning: ${message}`);
    };
    replica.problem = (message) => {
      replica.report.errors.push(message);
      if (!options.json) err(`pushgateway-cleanup: ${prefix(url)}${message}`);
    };
    return replica;
  });

  for (const replica of replicas) {
    replica.code = await cleanup(replica.options, replica.client, replica.report, { ...replica, clock });
  }
  let code = replicas.every((r) => r.code === EXIT_UNREADABLE) ? EXIT_UNREADABLE
    : replicas.some((r) => r.code !== EXIT_OK) ? EXIT_DELETE_FAILED : EXIT_OK;
  if (options.pushMetrics) {
    const sum = (count) => replicas.reduce((total, r) => total + count(r), 0);
    // Built once: every replica gets the same result of the run as a whole.
    const metrics = runMetrics({
      success: code === EXIT_OK,
      durationSeconds: Math.round(clock() - startedAt) / 1000,
      finishedAt: Math.floor(Date.now() / 1000),
      deleted: sum((r) => (options.dryRun ? r.report.groups.length : r.report.deleted)),
      retries: sum((r) => r.client.retries()),
      errors: sum((r) => r.report.errors.length),
    });
    for (const replica of replicas) {
      try {
        // POST replaces only these metric names, so a failed run keeps the last success timestamp.
        await replica.client.request('POST', `/metrics/job/${METRICS_JOB}`, { body: metrics, headers: { 'content-type': 'text/plain; version=0.0.4' } });
      } catch (e) {
        replica.problem(`cannot push the run's metrics: ${e.message}`);
        if (code === EXIT_OK) code = EXIT_DELETE_FAILED;
      }
    }
  }
  for (const replica of replicas) replica.client.close();
  for (const { report } of replicas) {
    report.groups.sort((a, b) => a.lastPush - b.lastPush || compareText(describeGroup(a.labels), describeGroup(b.labels)));
  }
  if (options.json) {
    const report = replicas.length === 1 ? { ...replicas[0].report, exitCode: code }
      : { exitCode: code, replicas: replicas.map((r) => ({ ...r.report, exitCode: r.code })) };
    out(JSON.stringify(report, null, 2));
  } else {
    for (const { report } of replicas) out(`pushgateway-cleanup: ${prefix(report.url)}${summary(report, options.dryRun)}`);
  }
  stdout?.close();
  return code;
}

function summary(report, dryRun) {
  if (!report.read) return `nothing deleted: the Pushgateway at ${report.url} could not be read`;
  const outcome = dryRun ? `${report.groups.length} would be deleted (dry run)` : `${report.deleted} deleted, ${report.failed} failed`;
  return `${report.listed} groups listed, ${report.stale} older than ${formatDuration(report.maxAgeSeconds)}: ${outcome}; `
    + `kept ${report.fresh} fresh, ${report.excluded} excluded, ${report.undated} undated${report.relists ? `; listed again ${report.relists} time(s)` : ''}`;
}

/**
 * Writes lines in batches: one write per line costs more than the DELETE it reports on a fast
 * Pushgateway. A timer flushes at least every second, so logs still follow a long run.
 */
function lineWriter(stream) {
  let lines = [];
  const flush = () => {
    if (lines.length === 0) return;
    stream.write(`${lines.join('\n')}\n`);
    lines = [];
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  return {
    write: (line) => {
      lines.push(line);
      if (lines.length >= 256) flush();
    },
    close: () => {
      clearInterval(timer);
      flush();
    },
  };
}

async function cleanup(options, client, report, { say, warn, problem, clock }) {
  const criteria = { maxAgeSeconds: options.maxAge / 1000, jobs: options.jobs, excludeJobs: options.excludeJobs };
  let listing;
  try {
    listing = await list(client, options.url, clock);
  } catch (e) {
    problem(`cannot read the Pushgateway: ${e.message}`);
    return EXIT_UNREADABLE;
  }
  let plan = planCleanup(listing.groups, criteria, options.now ?? listing.now);
  Object.assign(report, {
    read: true,
    listed: listing.groups.length, stale: plan.stale.length, fresh: plan.fresh.length,
    excluded: plan.excluded.length, undated: plan.undated.length,
  });
  for (const group of plan.undated) warn(`kept ${describeGroup(group.labels)}: it has no push time, so its age is unknown`);
  const describeAge = (group) => `last push ${formatDuration(group.ageSeconds)} ago, ${new Date(group.lastPush * 1000).toISOString()}`;

  if (options.dryRun) {
    for (const group of plan.stale) {
      report.groups.push(groupReport(group, 'would-delete'));
      say(`would delete ${describeGroup(group.labels)} (${describeAge(group)})`);
    }
    return EXIT_OK;
  }

  const attempted = new Set();
  for (;;) {
    const todo = plan.stale.filter((g) => !attempted.has(describeGroup(g.labels)));
    let expired = false;
    let started = 0;
    await runPool(todo, options.concurrency, async (group) => {
      // Every listing gets at least one DELETE per worker, so that a slow listing cannot make the
      // program list forever without deleting anything.
      if (expired || (started >= options.concurrency && clock() - listing.listedAt > options.relistAfter)) {
        expired = true;
        return;
      }
      started++;
      const key = describeGroup(group.labels);
      attempted.add(key);
      try {
        await client.request('DELETE', groupPath(group.labels));
        report.deleted++;
        report.groups.push(groupReport(group, 'deleted'));
        say(`deleted ${key} (${describeAge(group)})`);
      } catch (e) {
        report.failed++;
        report.groups.push({ ...groupReport(group, 'failed'), error: e.message });
        problem(`failed to delete ${key}: ${e.message}`);
      }
    });
    if (!expired) break;
    // The listing is too old to trust: list again and delete only what is still stale.
    report.relists++;
    try {
      listing = await list(client, options.url, clock);
    } catch (e) {
      problem(`cannot list the groups again: ${e.message}`);
      return EXIT_UNREADABLE;
    }
    plan = planCleanup(listing.groups, criteria, options.now ?? listing.now);
  }
  return report.failed > 0 ? EXIT_DELETE_FAILED : EXIT_OK;
}

function groupReport(group, action) {
  return { labels: group.labels, lastPush: group.lastPush, ageSeconds: Math.floor(group.ageSeconds), action };
}

async function main(argv, env) {
  // A closed pipe (`pushgateway-cleanup ... | head`) must not stop the cleanup half-way.
  process.stdout.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
  let options;
  try {
    options = parseArgs(argv, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`pushgateway-cleanup: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  if (options.caFile !== undefined) {
    try {
      fs.accessSync(options.caFile, fs.constants.R_OK);
    } catch (e) {
      process.stderr.write(`pushgateway-cleanup: cannot read the CA file ${options.caFile}: ${e.message}\n`);
      return EXIT_USAGE;
    }
  }
  return run(options);
}

module.exports = {
  EXIT_OK, EXIT_DELETE_FAILED, EXIT_USAGE, EXIT_UNREADABLE, METRICS_JOB, OPTIONS, HELP, UsageError,
  parseArgs, parseDuration, formatDuration, encodeLabel, groupPath, describeGroup, lastPushTime, planCleanup,
  parseGroups, runMetrics, run,
};

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  }, (e) => {
    process.stderr.write(`pushgateway-cleanup: unexpected error: ${e.stack || e}\n`);
    process.exitCode = EXIT_DELETE_FAILED;
  });
}
