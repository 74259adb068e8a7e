#!/bin/sh
# Runs a batch job's command unchanged, then pushes its outcome to the Pushgateway:
#   batch_job_success, batch_job_duration_seconds and, on success only,
#   batch_job_last_success_timestamp_seconds.
# POST replaces only these metric names in the group, so a failed run keeps the last success time.
#
# Usage: push-metrics.sh COMMAND [ARG]...
# Environment: PUSHGATEWAY_URL (e.g. http://pushgateway.monitoring.svc:9091), BATCH_JOB_NAME;
#   with a web config also PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD (basic auth) and
#   PUSHGATEWAY_CA_FILE (the CA of an https URL).
# Needs: a POSIX sh, and curl or wget (BusyBox's will do; base64 too for basic auth).
# Exit status: the command's own. A failed push never changes it; it is reported on stderr.

if [ "$#" -eq 0 ]; then
  echo "push-metrics: usage: push-metrics.sh COMMAND [ARG]..." >&2
  exit 2
fi

now_ms() {
  # Milliseconds where date supports %N (GNU, most BusyBox builds), else whole seconds.
  ns=$(date +%s%N 2>/dev/null)
  case "$ns" in
    *[!0-9]*|'') echo "$(($(date +%s) * 1000))" ;;
    *) echo "${ns%??????}" ;;
  esac
}

start=$(now_ms)

# The command runs as a child so that this shell can still push after it ends; TERM and INT
# (e.g. the Job's activeDeadlineSeconds) are passed on to it.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
wait "$child"
status=$?
# A trapped signal interrupts wait before the child has ended: wait again for its real status.
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
trap - TERM INT

end=$(now_ms)
elapsed=$((end - start))
duration="$((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000)))"

success=0
[ "$status" -eq 0 ] && success=1
body="# TYPE batch_job_success gauge
batch_job_success $success
# TYPE batch_job_duration_seconds gauge
batch_job_duration_seconds $duration
"
if [ "$success" -eq 1 ]; then
  body="$body# TYPE batch_job_last_success_timestamp_seconds gauge
batch_job_last_success_timestamp_seconds $((end / 1000))
"
fi

if [ -z "${PUSHGATEWAY_URL:-}" ] || [ -z "${BATCH_JOB_NAME:-}" ]; then
  echo "push-metrics: PUSHGATEWAY_URL and BATCH_JOB_NAME must be set; metrics not pushed" >&2
  exit "$status"
fi
url="${PUSHGATEWAY_URL%/}/metrics/job/${BATCH_JOB_NAME}"

# Credentials travel in a header built here, never in the URL, which error messages print.
auth=""
if [ -n "${PUSHGATEWAY_USERNAME:-}" ]; then
  auth="Authorization: Basic $(printf '%s:%s' "$PUSHGATEWAY_USERNAME" "${PUSHGATEWAY_PASSWORD:-}" | base64 | tr -d '\n')"
fi

if command -v curl >/dev/null 2>&1; then
  error=$(printf '%s' "$body" | curl --silent --show-error --fail --max-time 10 --retry 2 \
    ${auth:+--header "$auth"} ${PUSHGATEWAY_CA_FILE:+--cacert "$PUSHGATEWAY_CA_FILE"} \
    --data-binary @- "$url" 2>&1 >/dev/null)
elif command -v wget >/dev/null 2>&1; then
  error=$(wget -q -O /dev/null -T 10 -t 2 ${auth:+--header "$auth"} \
    ${PUSHGATEWAY_CA_FILE:+--ca-certificate="$PUSHGATEWAY_CA_FILE"} --post-data="$body" "$url" 2>&1)
else
  error="neither curl nor wget is installed in the image"
  false
fi
# shellcheck disable=SC2181
if [ "$?" -ne 0 ]; then
  echo "push-metrics: could not push to $url (${error:-no details}); the job's exit status $status is kept" >&2
fi
exit "$status"
