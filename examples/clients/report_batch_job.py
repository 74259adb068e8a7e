#!/usr/bin/env python3
"""A batch job in Python that reports to the Pushgateway with prometheus_client.

The seed article's example, corrected: push_to_gateway (PUT) becomes pushadd_to_gateway (POST) so
a failed run does not erase the last success time; the grouping key is the job alone unless a
per-run label is asked for (BATCH_JOB_RUN_ID), since every distinct key is a group the Pushgateway
keeps forever; and the last success time is pushed on success only.

Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=daily-backup python3 report_batch_job.py
(MonitoredCronJob injects both variables, and with a secured Pushgateway also PUSHGATEWAY_USERNAME,
PUSHGATEWAY_PASSWORD and PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.
"""
import os
import sys
import time

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


def work():
    """Stands in for the job's real work: returns (records processed, retries, errors)."""
    if os.environ.get("BATCH_JOB_FAIL") == "1":
        raise RuntimeError("the backup target is full")
    return 420, 0, 0


def main():
    url = os.environ.get("PUSHGATEWAY_URL")
    job = os.environ.get("BATCH_JOB_NAME")
    if not url or not job:
        print("PUSHGATEWAY_URL and BATCH_JOB_NAME must be set", file=sys.stderr)
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
    try:
        pushadd_to_gateway(url, job=job, registry=registry, grouping_key=grouping_key, timeout=10, handler=handler)
    except Exception as e:  # a monitoring outage must not fail the job itself
        print(f"could not push to {url}: {e}", file=sys.stderr)
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
