'use strict';
// Reading the groups: GET /metrics, streamed, keeping only the lines the decision needs.
//
// GET /api/v1/metrics would be simpler, but the Pushgateway builds that answer whole in memory:
// at 15,000 groups it took the Pushgateway from 109 MiB to 264 MiB, over its 200 Mi limit. /metrics
// is what Prometheus scrapes anyway and is written out as it is gathered; this side parses it
// line by line and holds one small record per group.

// Every group has both (the Pushgateway adds them); batch_job_success marks a group holding a result.
const PUSH_TIME = 'push_time_seconds';
const PUSH_FAILURE_TIME = 'push_failure_time_seconds';
const RESULT = 'batch_job_success';
const WANTED = [PUSH_TIME, PUSH_FAILURE_TIME, RESULT].map((name) => `${name}{`);

/**
 * Parses `{name="value",...} number` (what follows the metric name on a text-format line) into
 * `{ labels, value }`. Label values are unescaped (\\, \", \n); a quoted (UTF-8) label name is
 * read too. Throws on anything else.
 */
function parseSample(text) {
  const labels = {};
  let i = 1;
  const fail = (why) => { throw new Error(`cannot read the line "${text.slice(0, 200)}": ${why}`); };
  const readQuoted = () => {
    let out = '';
    for (i++; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const next = text[++i];
        out += next === 'n' ? '\n' : next;
      } else {
        out += c;
      }
    }
    return fail('unterminated quoted string');
  };
  while (text[i] !== '}') {
    let name;
    if (text[i] === '"') {
      name = readQuoted();
    } else {
      const start = i;
      while (i < text.length && /[a-zA-Z0-9_]/.test(text[i])) i++;
      name = text.slice(start, i);
    }
    if (name === '' || text[i] !== '=' || text[i + 1] !== '"') fail('malformed label');
    i++;
    labels[name] = readQuoted();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('malformed label list');
  }
  const value = Number(text.slice(i + 1).trim().split(' ')[0]);
  if (Number.isNaN(value)) fail('no number');
  return { labels, value };
}

/** A grouping key as one string: the labels sorted by name. */
function keyOf(labels) {
  return JSON.stringify(Object.keys(labels).sort().map((name) => [name, labels[name]]));
}

/**
 * A parser of the text format that keeps one record per group: `write` takes chunks as they come,
 * `end` returns the groups, each `{ labels, pushTime, failureTime, hasResult, emptyInstance }`.
 */
function groupParser() {
  const groups = new Map();
  const results = [];
  let rest = '';
  let pushgateway = false;
  const line = (text) => {
    if (!pushgateway && text.startsWith('pushgateway_build_info')) pushgateway = true;
    const prefix = WANTED.find((p) => text.startsWith(p));
    if (prefix === undefined) return;
    const { labels, value } = parseSample(text.slice(prefix.length - 1));
    if (prefix === WANTED[2]) {
      results.push(labels);
      return;
    }
    if (typeof labels.job !== 'string' || labels.job === '') throw new Error(`a group has no job label: ${text.slice(0, 200)}`);
    const key = keyOf(labels);
    let group = groups.get(key);
    if (!group) {
      group = { labels, pushTime: undefined, failureTime: undefined, hasResult: false };
      groups.set(key, group);
    }
    if (prefix === WANTED[0]) group.pushTime = value;
    else group.failureTime = value;
  };
  return {
    write(chunk) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      for (const part of parts) line(part);
    },
    end() {
      if (rest !== '') line(rest);
      // A Pushgateway always shows its own metrics, with or without groups; a web page or another
      // exporter does not.
      if (!pushgateway) throw new Error('the answer has no pushgateway_build_info: is the URL the Pushgateway\'s base URL, with its route prefix?');
      markResults(groups, results);
      return [...groups.values()].map(withoutAddedInstance);
    },
  };
}

/**
 * /metrics shows `instance=""` both for a key without `instance` and for one with an empty
 * `instance`, which the consistency check keeps from existing side by side. The label is dropped
 * and `emptyInstance` set: deleting such a group takes a DELETE of each form.
 */
function withoutAddedInstance(group) {
  if (group.labels.instance !== '') return group;
  const { instance, ...labels } = group.labels;
  return { ...group, labels, emptyInstance: true };
}

/**
 * Marks the groups that hold a result. A `batch_job_success` sample has its group's labels, plus
 * any of its own: matched exactly first, else against the groups of its job.
 */
function markResults(groups, results) {
  let byJob;
  for (const labels of results) {
    const exact = groups.get(keyOf(labels));
    if (exact) {
      exact.hasResult = true;
      continue;
    }
    if (!byJob) {
      byJob = new Map();
      for (const group of groups.values()) {
        if (!byJob.has(group.labels.job)) byJob.set(group.labels.job, []);
        byJob.get(group.labels.job).push(group);
      }
    }
    for (const group of byJob.get(labels.job) ?? []) {
      if (Object.keys(group.labels).every((name) => labels[name] === group.labels[name])) group.hasResult = true;
    }
  }
}

/**
 * Reads the groups of the Pushgateway with one streamed GET /metrics. Returns
 * `{ groups, now, listedAt, readAt }`: `now` is the Pushgateway's time (Unix seconds) from its
 * Date header, `listedAt` and `readAt` the local `clock()` (ms) before the request and once read.
 */
async function readGroups(client, clock) {
  const listedAt = clock();
  const res = await client.request('GET', '/metrics', { headers: { accept: 'text/plain;version=0.0.4' }, consume: groupParser });
  // push_time_seconds comes from the Pushgateway's clock; so does its Date header. Measuring ages
  // on it keeps a skewed local clock from making fresh groups look old. The header has whole
  // seconds, truncated, which can only make a group look younger.
  const serverNow = Date.parse(res.headers.date ?? '');
  return { groups: res.body, now: Number.isFinite(serverNow) ? serverNow / 1000 : Date.now() / 1000, listedAt, readAt: clock() };
}

module.exports = { parseSample, groupParser, readGroups };
