#!/usr/bin/env python3
"""A batch job in Python that reports to the Pushgateway with prometheus_client.

The seed article's example, corrected: push_to_gateway (PUT) becomes pushadd_to_gateway (POST) so
a failed run does not erase the last success time; the grouping key is the job alone unless a
per-run label is asked for (BATCH_JOB_RUN_ID), since every distinct key is a group the Pushgateway
keeps forever; and the last success time is pushed on success only.

Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=daily-backup python3 report_batch_job.py
(MonitoredCronJob injects both variables, PUSHGATEWAY_URLS with a Pushgateway of several replicas,
and with a secured Pushgateway also PUSHGATEWAY_USERNAME, PUSHGATEWAY_PASSWORD and
PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.

A push that fails for a reason that can pass (refused or reset connection, timeout, DNS, 5xx) is
retried with exponential backoff and jitter for PUSHGATEWAY_RETRY_SECONDS (default 300, long enough
for a Pushgateway pod rescheduled with its volume); a 4xx is never retried. With PUSHGATEWAY_URLS
every replica gets the push; the run is delivered once one accepted it, and the others get
REPLICA_GRACE_SECONDS more.
"""
import os
import random
import sys
import time
import urllib.error

# Counters would otherwise also push a `_created` series per run: noise in a push.
os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")
# urllib verifies https against OpenSSL's default paths, which SSL_CERT_FILE overrides.
if os.environ.get("PUSHGATEWAY_CA_FILE"):
    os.environ["SSL_CERT_FILE"] = os.environ["PUSHGATEWAY_CA_FILE"]

from prometheus_client import CollectorRegistry, Counter, Gauge, pushadd_to_gateway  # noqa: E402
from prometheus_client.exposition import basic_auth_handler, default_handler  # noqa: E402


def handler(url, method, timeout, headers, data):
    """Basic auth from the environment (fed by a Secret) when a user name is set."""
    user = os.environ.get("PUSHGATEWAY_USERNAME")
    if user:
        return basic_auth_handler(url, method, timeout, headers, data, user, os.environ.get("PUSHGATEWAY_PASSWORD", ""))
    return default_handler(url, method, timeout, headers, data)


DEFAULT_RETRY_SECONDS = 300
REPLICA_GRACE_SECONDS = 10


def pushgateway_urls():
    """Every URL in PUSHGATEWAY_URLS (one per replica, each once), else PUSHGATEWAY_URL."""
    replicas = [u.strip().rstrip("/") for u in os.environ.get("PUSHGATEWAY_URLS", "").split(",") if u.strip().rstrip("/")]
    return list(dict.fromkeys(replicas)) or [u for u in [os.environ.get("PUSHGATEWAY_URL", "")] if u]


def retry_seconds():
    text = os.environ.get("PUSHGATEWAY_RETRY_SECONDS", "")
    if text.isdigit():
        return int(text)
    if text:
        print(f"PUSHGATEWAY_RETRY_SECONDS={text} is not a whole number of seconds; using {DEFAULT_RETRY_SECONDS}", file=sys.stderr)
    return DEFAULT_RETRY_SECONDS


def can_pass(error):
    """A 4xx answer will not get better; no answer at all (refused, reset, timeout, DNS), or a 5xx, can pass."""
    return not isinstance(error, urllib.error.HTTPError) or error.code >= 500


def push_to_every_replica(urls, push):
    """Pushes to every URL in turn, retrying what can pass; True when at least one replica accepted it."""
    bound = retry_seconds()
    deadline = time.monotonic() + bound
    pending, delivered, backoff, failures = urls, 0, 0.5, {}
    attempt = 0
    while True:
        attempt += 1
        still = []
        for url in pending:
            try:
                push(url)
            except OSError as e:  # urllib's errors, timeouts and refused connections are all OSErrors
                detail = e.read().decode(errors="replace") if isinstance(e, urllib.error.HTTPError) else ""
                message = " ".join(f"{e} {detail}".split())
                if not can_pass(e):
                    print(f"{url} rejected the push ({message}); not retried: a rejected push will not get better", file=sys.stderr)
                    continue
                if url not in failures:
                    print(f"could not push to {url} ({message}); retrying for up to {bound} s", file=sys.stderr)
                failures[url] = message
                still.append(url)
                continue
            delivered += 1
            if attempt > 1:
                print(f"pushed to {url} on attempt {attempt}", file=sys.stderr)
        pending = still
        now = time.monotonic()
        if delivered:
            deadline = min(deadline, now + REPLICA_GRACE_SECONDS)
        if not pending or now >= deadline:
            report = "".join(f"\n  {url}: {failures[url]}" for url in pending)
            if not delivered:
                print(f"the result was not delivered{f' after {attempt} attempts:{report}' if report else ''}", file=sys.stderr)
            elif report:
                print(f"delivered to {delivered} of {len(urls)} Pushgateway replicas; still failing after {attempt} attempts:{report}", file=sys.stderr)
            return delivered > 0
        # Half the backoff plus a random part of the other half, so that many jobs do not retry in lockstep.
        time.sleep(min(backoff / 2 + random.uniform(0, backoff / 2), deadline - now))
        backoff = min(backoff * 2, 15)


def work():
    """Stands in for the job's real work: returns (records processed, retries, errors)."""
    if os.environ.get("BATCH_JOB_FAIL") == "1":
        raise RuntimeError("the backup target is full")
    return 420, 0, 0


def main():
    urls = pushgateway_urls()
    job = os.environ.get("BATCH_JOB_NAME")
    if not urls or not job:
        print("PUSHGATEWAY_URL (or PUSHGATEWAY_URLS) and BATCH_JOB_NAME must be set", file=sys.stderr)
        return 2

    started = time.monotonic()
    try:
        result = work()
    except Exception as e:  # the job's own failure: report it, do not crash before pushing
        print(f"job failed: {e}", file=sys.stderr)
        result = None
    duration = time.monotonic() - started

    registry = CollectorRegistry()
    Gauge("batch_job_success", "1 if the last run succeeded, 0 if it failed", registry=registry).set(1 if result else 0)
    Gauge("batch_job_duration_seconds", "Duration of the last run", registry=registry).set(duration)
    if result:
        records, retries, errors = result
        Gauge("batch_job_last_success_timestamp_seconds", "Unix time of the last successful run", registry=registry).set_to_current_time()
        Gauge("batch_job_records_processed", "Records handled by the last run", registry=registry).set(records)
        Counter("batch_job_retries", "Retries in the last run", registry=registry).inc(retries)
        Counter("batch_job_errors", "Errors in the last run", registry=registry).inc(errors)

    grouping_key = {}
    if os.environ.get("BATCH_JOB_RUN_ID"):
        # One group per run, only when asked: the cleanup CronJob reclaims them.
        grouping_key["job_id"] = os.environ["BATCH_JOB_RUN_ID"]
    # The registry is not touched again: every attempt and every replica get the same result, so a
    # retry only repeats it. A monitoring outage must not fail the job itself: it is only reported.
    push_to_every_replica(urls, lambda url: pushadd_to_gateway(
        url, job=job, registry=registry, grouping_key=grouping_key, timeout=10, handler=handler))
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
