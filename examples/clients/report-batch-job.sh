#!/bin/sh
# A batch job in shell that reports to the Pushgateway with curl.
#
# The seed article's example, corrected: POST (curl --data-binary) instead of PUT, so a failed run
# keeps the last success time; the last success time only on success; the real duration; and a
# failed push that never fails the job.
#
# Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=log-cleanup sh report-batch-job.sh
# (MonitoredCronJob injects both variables, and with a secured Pushgateway also PUSHGATEWAY_USERNAME,
# PUSHGATEWAY_PASSWORD and PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.

: "${PUSHGATEWAY_URL:?must be set}" "${BATCH_JOB_NAME:?must be set}"

work() {
  # Stands in for the job's real work.
  [ "${BATCH_JOB_FAIL:-0}" != 1 ]
}

start=$(date +%s)
if work; then status=0; else status=1; fi
end=$(date +%s)

{
  echo "# TYPE batch_job_success gauge"
  echo "batch_job_success $([ "$status" -eq 0 ] && echo 1 || echo 0)"
  echo "# TYPE batch_job_duration_seconds gauge"
  echo "batch_job_duration_seconds $((end - start))"
  if [ "$status" -eq 0 ]; then
    echo "# TYPE batch_job_last_success_timestamp_seconds gauge"
    echo "batch_job_last_success_timestamp_seconds $end"
  fi
} | curl --silent --show-error --fail --max-time 10 \
  ${PUSHGATEWAY_USERNAME:+--user "$PUSHGATEWAY_USERNAME:${PUSHGATEWAY_PASSWORD:-}"} \
  ${PUSHGATEWAY_CA_FILE:+--cacert "$PUSHGATEWAY_CA_FILE"} \
  --data-binary @- "${PUSHGATEWAY_URL%/}/metrics/job/${BATCH_JOB_NAME}" \
  || echo "could not push to ${PUSHGATEWAY_URL}; the job's exit status $status is kept" >&2

exit "$status"
