#!/bin/sh
# Runs a batch job's command unchanged, then pushes its outcome to the Pushgateway:
#   batch_job_success, batch_job_duration_seconds and, on success only,
#   batch_job_last_success_timestamp_seconds.
# POST replaces only these metric names in the group, so a failed run keeps the last success time.
#
# Usage: push-metrics.sh COMMAND [ARG]...
# Environment: PUSHGATEWAY_URL (e.g. http://pushgateway.monitoring.svc:9091), BATCH_JOB_NAME;
#   BATCH_JOB_CONTAINER (set when one pod runs several wrapped containers): each pushes to its own
#   group, with the grouping label batch_container, so that no container's result overwrites another's;
#   PUSHGATEWAY_URLS (comma-separated, one URL per Pushgateway replica): push to each of them
#   instead of PUSHGATEWAY_URL; PUSHGATEWAY_RETRY_SECONDS (whole seconds, default 300): how long
#   a push that can pass is retried; with a web config also PUSHGATEWAY_USERNAME and
#   PUSHGATEWAY_PASSWORD (basic auth) and PUSHGATEWAY_CA_FILE (the CA of an https URL).
# Needs: a POSIX sh, and curl or wget (BusyBox's will do; base64 and tr too for basic auth, or for
#   a job or container name with characters other than A-Z a-z 0-9 . _ -).
# Exit status: the command's own. A failed push never changes it; it is reported on stderr.
#
# Retries: a refused or reset connection, a timeout, a DNS failure or a 5xx answer can pass (a
# Pushgateway pod being restarted or rescheduled with its volume), so the push is tried again with
# exponential backoff and jitter until PUSHGATEWAY_RETRY_SECONDS have passed. A 4xx answer (a
# malformed or inconsistent push, bad credentials) will not get better: it is never retried.
# The body is built once, before the first attempt: every attempt, and every replica, gets the
# very same result, so a retry can only repeat it, never turn a failure into a success.
# With replicas, a run is delivered once one replica accepted it; the others then get
# REPLICA_GRACE_SECONDS more, so that the job ends within seconds, not after the full bound.

REPLICA_GRACE_SECONDS=10
DEFAULT_RETRY_SECONDS=300

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
# Stopped while still pushing: the command's status, not the signal's, is the job's.
trap 'echo "push-metrics: stopped while pushing; the job'"'"'s exit status $status is kept" >&2; exit "$status"' TERM INT

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

if [ -z "${PUSHGATEWAY_URLS:-}${PUSHGATEWAY_URL:-}" ] || [ -z "${BATCH_JOB_NAME:-}" ]; then
  echo "push-metrics: PUSHGATEWAY_URL (or PUSHGATEWAY_URLS) and BATCH_JOB_NAME must be set; metrics not pushed" >&2
  exit "$status"
fi

retry_seconds=${PUSHGATEWAY_RETRY_SECONDS:-$DEFAULT_RETRY_SECONDS}
case "$retry_seconds" in
  ''|*[!0-9]*)
    echo "push-metrics: PUSHGATEWAY_RETRY_SECONDS=$retry_seconds is not a whole number of seconds; using $DEFAULT_RETRY_SECONDS" >&2
    retry_seconds=$DEFAULT_RETRY_SECONDS ;;
esac

# A grouping label as a URL path part: as it is when the value is safe there, else base64url with
# the Pushgateway's @base64 suffix, which any value survives ("/" or "%" included).
path_label() {
  case "$2" in
    .|..|*[!A-Za-z0-9._-]*) printf '/%s@base64/%s' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n=' | tr '+/' '-_')" ;;
    *) printf '/%s/%s' "$1" "$2" ;;
  esac
}
group=$(path_label job "$BATCH_JOB_NAME")
[ -n "${BATCH_JOB_CONTAINER:-}" ] && group="$group$(path_label batch_container "$BATCH_JOB_CONTAINER")"

# One push URL per replica; URLs hold no spaces or commas, so they travel as a space-separated list.
targets=""
old_ifs=$IFS
IFS=', '
set -f
for base in ${PUSHGATEWAY_URLS:-$PUSHGATEWAY_URL}; do
  targets="$targets ${base%/}/metrics$group"
done
set +f
IFS=$old_ifs

# Credentials travel in a header built here, never in the URL, which error messages print.
auth=""
if [ -n "${PUSHGATEWAY_USERNAME:-}" ]; then
  auth="Authorization: Basic $(printf '%s:%s' "$PUSHGATEWAY_USERNAME" "${PUSHGATEWAY_PASSWORD:-}" | base64 | tr -d '\n')"
fi

if command -v curl >/dev/null 2>&1; then
  client=curl
elif command -v wget >/dev/null 2>&1; then
  client=wget
  # BusyBox's wget has no -nv and its -T crashes in some builds (Debian's 1.35): a watchdog
  # stands in for the timeout there.
  case "$(wget --help 2>&1)" in *BusyBox*) client=busybox-wget ;; esac
else
  echo "push-metrics: neither curl nor wget is installed in the image; metrics not pushed; the job's exit status $status is kept" >&2
  exit "$status"
fi

# One attempt to push the body to $1. Sets outcome (ok, retry or reject) and reason.
push_once() {
  case "$client" in
    curl)
      out=$(printf '%s' "$body" | curl --silent --show-error --connect-timeout 5 --max-time 10 \
        ${auth:+--header "$auth"} ${PUSHGATEWAY_CA_FILE:+--cacert "$PUSHGATEWAY_CA_FILE"} \
        --data-binary @- --output - --write-out ' HTTP_STATUS=%{http_code}' "$1" 2>&1)
      code=${out##*HTTP_STATUS=}
      code=${code%"${code#???}"}
      reason="${out%% HTTP_STATUS=*}${out##* HTTP_STATUS=???}"
      [ "$code" = 000 ] || reason="HTTP $code: $reason" ;;
    wget)
      out=$(wget -nv -O /dev/null -t 1 -T 10 ${auth:+--header "$auth"} \
        ${PUSHGATEWAY_CA_FILE:+--ca-certificate="$PUSHGATEWAY_CA_FILE"} --post-data="$body" "$1" 2>&1)
      code=$(wget_status "$?" "$out")
      reason=${out#*"$1":} ;;
    busybox-wget)
      out=$(
        wget -q -O /dev/null ${auth:+--header "$auth"} \
          ${PUSHGATEWAY_CA_FILE:+--ca-certificate="$PUSHGATEWAY_CA_FILE"} --post-data="$body" "$1" 2>&1 &
        pid=$!
        (sleep 10; kill "$pid") >/dev/null 2>&1 &
        watchdog=$!
        wait "$pid"
        rc=$?
        kill "$watchdog" 2>/dev/null
        [ "$rc" -gt 128 ] && echo "no answer within 10 s"
        echo " WGET_EXIT=$rc"
      )
      code=$(wget_status "${out##* WGET_EXIT=}" "$out")
      reason=${out%% WGET_EXIT=*} ;;
  esac
  reason=$(printf '%s\n' "$reason" | while read -r line; do [ -n "$line" ] && printf '%s ' "$line"; done)
  # One line, and not a whole error page from a proxy in front of the Pushgateway.
  reason=$(printf '%.300s' "${reason% }")
  case "$code" in
    2??) outcome=ok ;;
    5??|000) outcome=retry; reason=${reason:-HTTP $code} ;;
    *) outcome=reject; reason=${reason:-HTTP $code} ;;
  esac
}

# The HTTP status in wget's error text (GNU: "ERROR 400: ...", BusyBox: "... error: HTTP/1.1 400 ..."),
# 200 when wget exited 0, 000 when no answer came.
wget_status() {
  if [ "$1" -eq 0 ]; then echo 200; return; fi
  case "$2" in
    *"ERROR "[0-9][0-9][0-9]*) s=${2##*ERROR } ;;
    *"error: HTTP/"*) s=${2##*error: HTTP/}; s=${s#* } ;;
    *) echo 000; return ;;
  esac
  echo "${s%"${s#???}"}"
}

random_below() {
  # BusyBox ash and bash have $RANDOM; dash has not, but its date has milliseconds.
  r=${RANDOM:-$(( $(now_ms) + $$ * 7919 ))}
  echo $(( r % $1 ))
}

sleep_ms() {
  # Sleep in the background and wait, so that TERM is handled at once; whole seconds where sleep
  # takes no fraction.
  sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" 2>/dev/null &
  wait $! || { sleep $((($1 + 999) / 1000)) & wait $!; }
}

count=0
for target in $targets; do count=$((count + 1)); done
deadline=$(( $(now_ms) + retry_seconds * 1000 ))
pending=$targets
delivered=0
announced=""
attempt=0
backoff=500
while :; do
  attempt=$((attempt + 1))
  still=""
  failures=""
  for target in $pending; do
    push_once "$target"
    case "$outcome" in
      ok)
        delivered=$((delivered + 1))
        [ "$attempt" -gt 1 ] && echo "push-metrics: pushed to $target on attempt $attempt" >&2 ;;
      reject)
        echo "push-metrics: $target rejected the push ($reason); not retried: a rejected push will not get better" >&2 ;;
      retry)
        still="$still $target"
        failures="$failures
  $target: $reason"
        case " $announced " in
          *" $target "*) ;;
          *)
            announced="$announced $target"
            echo "push-metrics: could not push to $target ($reason); retrying for up to $retry_seconds s" >&2 ;;
        esac ;;
    esac
  done
  pending=$still
  [ -z "$pending" ] && break
  now=$(now_ms)
  if [ "$delivered" -gt 0 ] && [ $((now + REPLICA_GRACE_SECONDS * 1000)) -lt "$deadline" ]; then
    deadline=$((now + REPLICA_GRACE_SECONDS * 1000))
  fi
  [ "$now" -ge "$deadline" ] && break
  delay=$((backoff / 2 + $(random_below $((backoff / 2 + 1)))))
  [ "$delay" -gt $((deadline - now)) ] && delay=$((deadline - now))
  sleep_ms "$delay"
  backoff=$((backoff * 2))
  [ "$backoff" -gt 15000 ] && backoff=15000
done

if [ -n "$pending" ]; then
  if [ "$delivered" -gt 0 ]; then
    echo "push-metrics: delivered to $delivered of $count Pushgateway replicas; still failing after $attempt attempts:$failures" >&2
  else
    echo "push-metrics: could not push after $attempt attempts in $retry_seconds s:$failures
push-metrics: the result was not delivered; the job's exit status $status is kept" >&2
  fi
elif [ "$delivered" -eq 0 ]; then
  echo "push-metrics: the result was not delivered; the job's exit status $status is kept" >&2
fi
exit "$status"
