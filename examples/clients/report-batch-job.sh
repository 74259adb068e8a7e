#!/bin/sh
# A batch job in shell that reports to the Pushgateway with curl.
#
# The seed article's example, corrected: POST (curl --data-binary) instead of PUT, so a failed run
# keeps the last success time; the last success time only on success; the real duration; and a
# failed push that never fails the job.
#
# Run: PUSHGATEWAY_URL=http://pushgateway.monitoring.svc:9091 BATCH_JOB_NAME=log-cleanup sh report-batch-job.sh
# (MonitoredCronJob injects both variables, PUSHGATEWAY_URLS with a Pushgateway of several replicas,
# and with a secured Pushgateway also PUSHGATEWAY_USERNAME, PUSHGATEWAY_PASSWORD and
# PUSHGATEWAY_CA_FILE.) BATCH_JOB_FAIL=1 makes the demo work fail.
#
# A push that fails for a reason that can pass (refused or reset connection, timeout, DNS, 5xx) is
# retried with exponential backoff and jitter for PUSHGATEWAY_RETRY_SECONDS (default 300, long
# enough for a Pushgateway pod rescheduled with its volume); a 4xx is never retried (curl --retry
# would not do: it gives up on a refused connection). With PUSHGATEWAY_URLS every replica gets the
# push; the run is delivered once one accepted it, and the others get 10 s more.

: "${PUSHGATEWAY_URL:=${PUSHGATEWAY_URLS:?PUSHGATEWAY_URL or PUSHGATEWAY_URLS must be set}}" "${BATCH_JOB_NAME:?must be set}"

work() {
  # Stands in for the job's real work.
  [ "${BATCH_JOB_FAIL:-0}" != 1 ]
}

start=$(date +%s)
if work; then status=0; else status=1; fi
end=$(date +%s)

# Built once: every attempt and every replica get the very same result.
body=$(
  echo "# TYPE batch_job_success gauge"
  echo "batch_job_success $([ "$status" -eq 0 ] && echo 1 || echo 0)"
  echo "# TYPE batch_job_duration_seconds gauge"
  echo "batch_job_duration_seconds $((end - start))"
  if [ "$status" -eq 0 ]; then
    echo "# TYPE batch_job_last_success_timestamp_seconds gauge"
    echo "batch_job_last_success_timestamp_seconds $end"
  fi
)

# Prints the HTTP status of one POST to $1 (000: no answer); curl's error goes to stderr.
push() {
  printf '%s\n' "$body" | curl --silent --show-error --connect-timeout 5 --max-time 10 --output /dev/null --write-out '%{http_code}' \
    ${PUSHGATEWAY_USERNAME:+--user "$PUSHGATEWAY_USERNAME:${PUSHGATEWAY_PASSWORD:-}"} \
    ${PUSHGATEWAY_CA_FILE:+--cacert "$PUSHGATEWAY_CA_FILE"} \
    --data-binary @- "${1%/}/metrics/job/${BATCH_JOB_NAME}"
}

retry_seconds=${PUSHGATEWAY_RETRY_SECONDS:-300}
deadline=$(($(date +%s) + retry_seconds))
# Each replica once: empty entries vanish in the split, repeated ones are skipped.
urls=""
for url in $(echo "${PUSHGATEWAY_URLS:-$PUSHGATEWAY_URL}" | tr ',' ' '); do
  case " $urls " in *" ${url%/} "*) ;; *) urls="$urls ${url%/}" ;; esac
done
pending=$urls
delivered=0
backoff=1
while [ -n "$pending" ]; do
  still=""
  for url in $pending; do
    code=$(push "$url")
    case "$code" in
      2??) delivered=$((delivered + 1)) ;;
      000|5??) still="$still $url"; echo "could not push to $url (HTTP $code); retrying" >&2 ;;
      *) echo "$url rejected the push (HTTP $code); not retried: a rejected push will not get better" >&2 ;;
    esac
  done
  pending=$still
  now=$(date +%s)
  # Once one replica has the result, the others get 10 s more, not the whole bound.
  [ "$delivered" -gt 0 ] && [ $((now + 10)) -lt "$deadline" ] && deadline=$((now + 10))
  [ -z "$pending" ] || [ "$now" -ge "$deadline" ] && break
  # Half the backoff plus a random part of the other half, so that many jobs do not retry in lockstep.
  sleep $((backoff / 2 + $(awk -v seed=$(($$ + now)) 'BEGIN { srand(seed); print int(rand() * 1000000) }') % (backoff / 2 + 1)))
  backoff=$((backoff * 2 > 16 ? 16 : backoff * 2))
done
if [ "$delivered" -eq 0 ]; then
  echo "the result was not delivered${pending:+; still failing:$pending}; the job's exit status $status is kept" >&2
elif [ -n "$pending" ]; then
  echo "delivered to $delivered of $(echo $urls | wc -w) Pushgateway replicas; still failing:$pending" >&2
fi

exit "$status"
