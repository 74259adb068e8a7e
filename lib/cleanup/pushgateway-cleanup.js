#!/usr/bin/env node
'use strict';
// pushgateway-cleanup: deletes stale Pushgateway groups. The Pushgateway keeps every group forever
// (upstream refuses a TTL), so groups of finished, renamed or per-run jobs pile up unless something
// reclaims them.
//
// This file is the `pushgateway-cleanup` command, the program the CleanupCronJob mounts from a
// ConfigMap (with the modules beside it), and what the tests run. It and its modules use Node
// built-ins only and import nothing else: arguments.js (options), read.js (reading /metrics),
// decide.js (which groups go), delete.js (DELETE paths), report.js (output), http-client.js.
//
// The race it cannot close: the Pushgateway API has no conditional delete, so a push to a group
// between the reading that found it stale and its DELETE is lost with it. The program bounds the
// window: ages are measured on the Pushgateway's own clock (its Date header), from the latest push
// attempt; the newest groups of declared jobs are never deleted; and no DELETE is sent more than
// --relist-after after the end of the reading it was decided on: the push times are read again and
// only groups still stale are deleted. What remains is a push, within one reading plus
// --relist-after before its DELETE, to a group that was stale when read; each run measures that
// window (raceWindowSeconds in the JSON report).
//
// A Pushgateway with replicas has no replication: each replica holds the groups pushed to it. With
// several URLs (--url repeated, or PUSHGATEWAY_URLS) every replica is read and cleaned on its own,
// one after the other; a replica that cannot be read is reported and the others are still cleaned.

const fs = require('node:fs');
const args = require('./arguments');
const { makeClient } = require('./http-client');
const { readGroups, parseSample, groupParser } = require('./read');
const { planCleanup, describeGroup, lastPushTime } = require('./decide');
const { encodeLabel, groupPath, groupPaths, deleteGroup, runPool } = require('./delete');
const report = require('./report');

const { EXIT_OK, EXIT_DELETE_FAILED, EXIT_USAGE, EXIT_UNREADABLE, METRICS_JOB } = args;

/**
 * Runs the cleanup on every URL of `options.urls` (one per replica), each on its own; returns the
 * exit code. `out` and `err` take whole lines.
 */
async function run(options, { out, err = (l) => process.stderr.write(`${l}\n`), clock = () => performance.now() } = {}) {
  const startedAt = clock();
  const stdout = out ? undefined : report.lineWriter(process.stdout);
  out = out ?? stdout.write;
  // With several replicas every line names the one it is about.
  const prefix = (url) => (options.urls.length > 1 ? `${url}: ` : '');
  const replicas = options.urls.map((url) => {
    const replica = { options: { ...options, url }, client: makeClient({ ...options, url }), report: report.newReport(url, options) };
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
    const metrics = report.runMetrics({
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
  for (const replica of replicas) report.sortGroups(replica.report);
  if (options.json) {
    const whole = replicas.length === 1 ? { ...replicas[0].report, exitCode: code }
      : { exitCode: code, replicas: replicas.map((r) => ({ ...r.report, exitCode: r.code })) };
    out(JSON.stringify(whole, null, 2));
  } else {
    for (const replica of replicas) out(`pushgateway-cleanup: ${prefix(replica.report.url)}${report.summary(replica.report, options.dryRun)}`);
  }
  stdout?.close();
  return code;
}

/** Cleans one replica: read, decide, delete; read again whenever the reading gets older than --relist-after. */
async function cleanup(options, client, runReport, { say, warn, problem, clock }) {
  const criteria = {
    maxAgeSeconds: options.maxAge / 1000, supersededAfterSeconds: options.supersededAfter / 1000,
    jobs: options.jobs, excludeJobs: options.excludeJobs, declaredJobs: options.declaredJobs,
  };
  let reading;
  try {
    reading = await readGroups(client, clock);
  } catch (e) {
    problem(`cannot read the Pushgateway: ${e.message}`);
    return EXIT_UNREADABLE;
  }
  let plan = planCleanup(reading.groups, criteria, options.now ?? reading.now);
  report.countPlan(runReport, reading, plan);
  for (const group of plan.undated) warn(`kept ${describeGroup(group.labels)}: it has no push time, so its age is unknown`);

  if (options.dryRun) {
    for (const group of plan.delete) {
      runReport.groups.push(report.groupReport(group, 'would-delete'));
      say(`would delete ${describeGroup(group.labels)} (${report.describeAge(group)})`);
    }
    return EXIT_OK;
  }

  const attempted = new Set();
  for (;;) {
    const todo = plan.delete.filter((g) => !attempted.has(describeGroup(g.labels)));
    let expired = false;
    let started = 0;
    await runPool(todo, options.concurrency, async (group) => {
      // Deletes for --relist-after from the end of the reading: a slow reading (a large store, a
      // busy Pushgateway) does not leave the program reading again and again, deleting nothing.
      if (expired || (started >= options.concurrency && clock() - reading.readAt > options.relistAfter)) {
        expired = true;
        return;
      }
      started++;
      const key = describeGroup(group.labels);
      attempted.add(key);
      const decidedOn = reading;
      try {
        await deleteGroup(client, group);
        // The race window, measured: from the start of the reading to the answer to a DELETE decided on it.
        runReport.raceWindowSeconds = Math.max(runReport.raceWindowSeconds, Math.round(clock() - decidedOn.listedAt) / 1000);
        runReport.deleted++;
        runReport.groups.push(report.groupReport(group, 'deleted'));
        say(`deleted ${key} (${report.describeAge(group)})`);
      } catch (e) {
        runReport.failed++;
        runReport.groups.push({ ...report.groupReport(group, 'failed'), error: e.message });
        problem(`failed to delete ${key}: ${e.message}`);
      }
    });
    if (!expired) break;
    // The reading is too old to trust: read again and delete only what is still stale.
    runReport.relists++;
    try {
      reading = await readGroups(client, clock);
    } catch (e) {
      problem(`cannot read the push times again: ${e.message}`);
      return EXIT_UNREADABLE;
    }
    plan = planCleanup(reading.groups, criteria, options.now ?? reading.now);
  }
  return runReport.failed > 0 ? EXIT_DELETE_FAILED : EXIT_OK;
}

async function main(argv, env) {
  // A closed pipe (`pushgateway-cleanup ... | head`) must not stop the cleanup half-way.
  process.stdout.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
  let options;
  try {
    options = args.parseArgs(argv, env);
  } catch (e) {
    if (!(e instanceof args.UsageError)) throw e;
    process.stderr.write(`pushgateway-cleanup: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(args.HELP);
    return EXIT_OK;
  }
  for (const [what, file] of [['CA file', options.caFile], ['declared-jobs file', options.declaredJobsFile]]) {
    if (file === undefined) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      process.stderr.write(`pushgateway-cleanup: cannot read the ${what} ${file}: ${e.message}\n`);
      return EXIT_USAGE;
    }
  }
  if (options.declaredJobsFile !== undefined) {
    options.declaredJobs = [...options.declaredJobs, ...args.parseDeclaredJobs(fs.readFileSync(options.declaredJobsFile, 'utf8'))];
  }
  return run(options);
}

module.exports = {
  ...args, parseSample, groupParser, encodeLabel, groupPath, groupPaths, describeGroup, lastPushTime, planCleanup,
  runMetrics: report.runMetrics, run,
};

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  }, (e) => {
    process.stderr.write(`pushgateway-cleanup: unexpected error: ${e.stack || e}\n`);
    process.exitCode = EXIT_DELETE_FAILED;
  });
}
