'use strict';
// Deciding which groups go: pure functions of one reading of the groups and the Pushgateway's time.

// The grouping label that tells the containers of one job apart (set when a MonitoredCronJob
// wraps more than one container): a job's newest group is judged per container.
const CONTAINER_LABEL = 'batch_container';

/** A group's grouping key as PromQL-like text, for people: `{job="a",instance="b"}`. */
function describeGroup(labels) {
  const names = ['job', ...Object.keys(labels).filter((n) => n !== 'job').sort()];
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

/**
 * A group's last push attempt in Unix seconds: the later of push_time_seconds and
 * push_failure_time_seconds, so that a group whose recent push was rejected keeps the evidence the
 * push-failure alert reads. Undefined when the group carries neither (it cannot be dated).
 */
function lastPushTime(group) {
  const success = Number.isFinite(group.pushTime) ? group.pushTime : undefined;
  const failure = Number.isFinite(group.failureTime) ? group.failureTime : undefined;
  if (success === undefined && failure === undefined) return undefined;
  const last = Math.max(success ?? 0, failure ?? 0);
  return last > 0 ? last : undefined;
}

function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

const byAge = (a, b) => a.lastPush - b.lastPush || compareText(describeGroup(a.labels), describeGroup(b.labels));

/**
 * Sorts the groups of one reading. `delete` (oldest first) holds the groups to delete, each with
 * its `reason`: `max-age` (an undeclared job's group older than max age) or `superseded` (a
 * declared job's group that a newer one supersedes, older than `supersededAfterSeconds`). Kept:
 * `newest` (per job and batch_container of a declared job: its newest group and its newest group
 * with a result, whatever their age), `fresh`, `excluded` (by job filters) and `undated` (no push
 * time). `now` is in Unix seconds.
 */
function planCleanup(groups, { maxAgeSeconds, supersededAfterSeconds = 0, jobs = [], excludeJobs = [], declaredJobs = [] }, now) {
  const plan = { delete: [], fresh: [], newest: [], excluded: [], undated: [] };
  const declared = new Set(declaredJobs);
  const perKey = new Map();
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
    const entry = { ...group, lastPush: last, ageSeconds: now - last };
    if (declared.has(labels.job)) {
      const key = JSON.stringify([labels.job, labels[CONTAINER_LABEL] ?? '']);
      if (!perKey.has(key)) perKey.set(key, []);
      perKey.get(key).push(entry);
    } else if (entry.ageSeconds > maxAgeSeconds) {
      plan.delete.push({ ...entry, reason: 'max-age' });
    } else {
      plan.fresh.push(entry);
    }
  }
  for (const entries of perKey.values()) {
    entries.sort(byAge);
    const newest = entries[entries.length - 1];
    const newestResult = entries.filter((e) => e.hasResult).pop();
    for (const entry of entries) {
      if (entry === newest || entry === newestResult) plan.newest.push(entry);
      else if (entry.ageSeconds > supersededAfterSeconds) plan.delete.push({ ...entry, reason: 'superseded' });
      else plan.fresh.push(entry);
    }
  }
  plan.delete.sort(byAge);
  return plan;
}

module.exports = { CONTAINER_LABEL, describeGroup, lastPushTime, planCleanup, compareText, byAge };
