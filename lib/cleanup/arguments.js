'use strict';
// The options of pushgateway-cleanup: flags, environment variables, defaults, help, and their parsing.

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
    help: 'Delete groups of undeclared jobs whose latest push is older than this (required), e.g. 7d, 36h, 90m' },
  { key: 'declaredJobs', flag: '--declared-job', env: 'CLEANUP_DECLARED_JOBS', type: 'list', arg: 'NAME', def: [],
    help: 'A declared job (repeatable; env: comma-separated): its newest group, and its newest group with a result, '
      + 'per batch_container, are never deleted, whatever their age; its other groups go once older than --superseded-after' },
  { key: 'declaredJobsFile', flag: '--declared-jobs-file', env: 'CLEANUP_DECLARED_JOBS_FILE', type: 'string', arg: 'PATH',
    help: 'A file of declared jobs, one name per line, added to --declared-job' },
  { key: 'supersededAfter', flag: '--superseded-after', env: 'CLEANUP_SUPERSEDED_AFTER', type: 'duration', arg: 'DURATION', def: 3_600_000,
    help: 'Delete a group of a declared job that a newer group of the job supersedes once its latest push is older than this' },
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
    help: 'How long each HTTP request may go without receiving anything' },
  { key: 'retries', flag: '--retries', env: 'CLEANUP_RETRIES', type: 'integer', arg: 'N', def: 3, min: 0, max: 10,
    help: 'Retries of a request after a network error or a 5xx answer, with exponential backoff (0-10)' },
  { key: 'relistAfter', flag: '--relist-after', env: 'CLEANUP_RELIST_AFTER', type: 'duration', arg: 'DURATION', def: 5_000,
    help: 'Read the push times again once this long has passed since the last reading ended, and delete only the groups '
      + 'still stale: a push to a group is lost only if made within one reading plus this before the group\'s DELETE' },
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

Deletes stale Prometheus Pushgateway groups. It streams GET /metrics and reads only the
push_time_seconds, push_failure_time_seconds and batch_job_success lines (their labels are the
grouping keys), never GET /api/v1/metrics, which makes the Pushgateway render its whole store.
A group's age is that of its latest push attempt (push_time_seconds, or push_failure_time_seconds
if later), on the Pushgateway's clock. Groups of undeclared jobs are deleted once older than
--max-age. Of a declared job (--declared-job), the newest group and the newest group with a result
(per batch_container) are kept whatever their age; its other groups (e.g. per-run job_id groups) are
deleted once older than --superseded-after. One DELETE per group with its full grouping key, oldest
first; the push times are read again every --relist-after, and only groups still stale are deleted.
--json reports the race window of the run (raceWindowSeconds): the longest time from the start of
a reading to the answer to a DELETE decided on it: a push to a group made longer than that before
its DELETE is kept.

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
  2  usage error (bad flag, value, variable or declared-jobs file)
  3  the Pushgateway (with several URLs: every replica) could not be read (unreachable, TLS or
     auth failure, malformed answer)
`;

function formatDefault(option) {
  if (option.type === 'duration') return formatDuration(option.def / 1000);
  return String(option.def);
}

class UsageError extends Error {}

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
 * that says what was wrong and how to fix it. Returns `{ help: true }` for --help. The
 * declared-jobs file is read by `readDeclaredJobs`, not here.
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

/** The job names of a declared-jobs file: one a line, blank lines skipped. */
function parseDeclaredJobs(text) {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

module.exports = {
  EXIT_OK, EXIT_DELETE_FAILED, EXIT_USAGE, EXIT_UNREADABLE, METRICS_JOB, OPTIONS, HELP, UsageError,
  parseArgs, parseDuration, formatDuration, parseDeclaredJobs,
};
