'use strict';
// Reporting: the lines and the JSON report of a run, and the run's own batch_job_* metrics.

const { formatDuration } = require('./arguments');
const { describeGroup } = require('./decide');

/** A new, empty report of one replica. */
function newReport(url, options) {
  return {
    url, dryRun: options.dryRun, maxAgeSeconds: options.maxAge / 1000, supersededAfterSeconds: options.supersededAfter / 1000,
    listed: 0, stale: 0, superseded: 0, deleted: 0, failed: 0, fresh: 0, newest: 0, excluded: 0, undated: 0, relists: 0, raceWindowSeconds: 0,
    read: false, groups: [], warnings: [], errors: [],
  };
}

/** Counts one reading's plan into the report (the first reading's, and each reading's after it). */
function countPlan(report, reading, plan) {
  Object.assign(report, {
    read: true,
    listed: reading.groups.length,
    stale: plan.delete.filter((g) => g.reason === 'max-age').length,
    superseded: plan.delete.filter((g) => g.reason === 'superseded').length,
    fresh: plan.fresh.length, newest: plan.newest.length, excluded: plan.excluded.length, undated: plan.undated.length,
  });
}

function groupReport(group, action) {
  return { labels: group.labels, lastPush: group.lastPush, ageSeconds: Math.floor(group.ageSeconds), reason: group.reason, action };
}

function describeAge(group) {
  return `last push ${formatDuration(group.ageSeconds)} ago, ${new Date(group.lastPush * 1000).toISOString()}`
    + `${group.reason === 'superseded' ? ', superseded by a newer group of the job' : ''}`;
}

function summary(report, dryRun) {
  if (!report.read) return `nothing deleted: the Pushgateway at ${report.url} could not be read`;
  const outcome = dryRun ? `${report.groups.length} would be deleted (dry run)` : `${report.deleted} deleted, ${report.failed} failed`;
  return `${report.listed} groups listed, ${report.stale} older than ${formatDuration(report.maxAgeSeconds)}, `
    + `${report.superseded} superseded: ${outcome}; kept ${report.fresh} fresh, ${report.newest} newest of declared jobs, `
    + `${report.excluded} excluded, ${report.undated} undated${report.relists ? `; read again ${report.relists} time(s)` : ''}`;
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

/** Puts each replica's groups in age order, for people and for the JSON report. */
function sortGroups(report) {
  report.groups.sort((a, b) => a.lastPush - b.lastPush || (describeGroup(a.labels) < describeGroup(b.labels) ? -1 : 1));
}

module.exports = { newReport, countPlan, groupReport, describeAge, summary, lineWriter, runMetrics, sortGroups };
