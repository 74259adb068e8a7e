#!/bin/sh
# Runs a batch job's command unchanged, then pushes its outcome to the Pushgateway:
#   batch_job_success, batch_job_duration_seconds, batch_job_exit_code (the command's exit status,
#   128+N when killed by signal N), batch_job_exit_signal ({signal="SIGKILL"} 9 when killed by a
#   signal, else 0 without the label), batch_job_running 0 and, on success only,
#   batch_job_last_success_timestamp_seconds.
# Before the command starts it pushes batch_job_running 1 (best effort, at most a few seconds, while
# the command already runs): the push time of that push is when the run started, so a run that
# never ends is seen.
# POST replaces only the metric names it carries, so a failed run keeps the last success time, and
# the start push keeps the last result.
#
# Usage: push-metrics.sh COMMAND [ARG]...
# The command gets the wrapper's stdin, stdout and stderr. TERM and HUP are passed on to it, INT as
# TERM (sh starts background commands with INT ignored), and the wrapper waits until it really
# ends: a command that handles TERM and exits 3 is pushed and exits as 3.
# Environment: PUSHGATEWAY_URL (e.g. http://pushgateway.monitoring.svc:9091), BATCH_JOB_NAME;
#   BATCH_JOB_CONTAINER (set when one pod runs several wrapped containers): each pushes to its own
#   group, with the grouping label batch_container, so that no container's result overwrites another's;
#   PUSHGATEWAY_URLS (comma-separated, one URL per Pushgateway replica; empty and repeated entries
#   are skipped): push to each of them instead of PUSHGATEWAY_URL; PUSHGATEWAY_RETRY_SECONDS (whole
#   seconds, default 300): how long a push that can pass is retried; with a web config also
#   PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD (basic auth) and PUSHGATEWAY_CA_FILE (the CA of an
#   https URL).
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
# The run start push: short, so that a Pushgateway that is away delays no job's result for long.
START_PUSH_SECONDS=3

if [ "$#" -eq 0 ]; then
  echo "push-metrics: usage: push-metrics.sh COMMAND [ARG]..." >&2
  exit 2
fi

# Milliseconds on a clock that no one steps: /proc/uptime (since boot, in every Linux container).
# Without it, the wall clock, which NTP or a person may step back: durations are clamped at 0.
mono_ms() {
  if { read -r up _; } 2>/dev/null </proc/uptime; then
    case "$up" in
      *[0-9].[0-9][0-9])
        cs=${up#*.}
        echo "$(( ${up%.*} * 1000 + ${cs#0} * 10 ))"
        return ;;
    esac
  fi
  # Milliseconds where date supports %N (GNU, most BusyBox builds), else whole seconds.
  ns=$(date +%s%N 2>/dev/null)
  case "$ns" in
    *[!0-9]*|'') echo "$(($(date +%s) * 1000))" ;;
    *) echo "${ns%??????}" ;;
  esac
}

# A grouping label as a URL path part: as it is when the value is safe there, else base64url with
# the Pushgateway's @base64 suffix, which any value survives ("/" or "%" included).
path_label() {
  case "$2" in
    .|..|*[!A-Za-z0-9._-]*) printf '/%s@base64/%s' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n=' | tr '+/' '-_')" ;;
    *) printf '/%s/%s' "$1" "$2" ;;
  esac
}

# One attempt to push $body to $1 within $attempt_seconds. Sets outcome (ok, retry or reject) and reason.
push_once() {
  connect_seconds=$((attempt_seconds < 5 ? attempt_seconds : 5))
  case "$client" in
    curl)
      out=$(printf '%s' "$body" | curl --silent --show-error --connect-timeout "$connect_seconds" --max-time "$attempt_seconds" \
        ${auth:+--header "$auth"} ${PUSHGATEWAY_CA_FILE:+--cacert "$PUSHGATEWAY_CA_FILE"} \
        --data-binary @- --output - --write-out ' HTTP_STATUS=%{http_code}' "$1" 2>&1)
      code=${out##*HTTP_STATUS=}
      code=${code%"${code#???}"}
      reason="${out%% HTTP_STATUS=*}${out##* HTTP_STATUS=???}"
      [ "$code" = 000 ] || reason="HTTP $code: $reason" ;;
    wget)
      out=$(wget -nv -O /dev/null -t 1 -T "$attempt_seconds" ${auth:+--header "$auth"} \
        ${PUSHGATEWAY_CA_FILE:+--ca-certificate="$PUSHGATEWAY_CA_FILE"} --post-data="$body" "$1" 2>&1)
      code=$(wget_status "$?" "$out")
      reason=${out#*"$1":} ;;
    busybox-wget)
      out=$(
        wget -q -O /dev/null ${auth:+--header "$auth"} \
          ${PUSHGATEWAY_CA_FILE:+--ca-certificate="$PUSHGATEWAY_CA_FILE"} --post-data="$body" "$1" 2>&1 &
        pid=$!
        (sleep "$attempt_seconds"; kill "$pid") >/dev/null 2>&1 &
        watchdog=$!
        wait "$pid"
        rc=$?
        kill "$watchdog" 2>/dev/null
        [ "$rc" -gt 128 ] && echo "no answer within $attempt_seconds s"
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
  r=${RANDOM:-$(( $(mono_ms) + $$ * 7919 ))}
  echo $(( r % $1 ))
}

sleep_ms() {
  # Sleep in the background and wait, so that TERM is handled at once; whole seconds where sleep
  # takes no fraction.
  sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" 2>/dev/null &
  wait $! || { sleep $((($1 + 999) / 1000)) & wait $!; }
}

# Pushes $body to every target, retrying what can pass for $1 seconds, each attempt at most
# $attempt_seconds; $of names what is pushed in messages. Sets pending and delivered.
push_all() {
  bound=$1
  deadline=$(( $(mono_ms) + bound * 1000 ))
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
          [ "$attempt" -gt 1 ] && echo "push-metrics: pushed$of to $target on attempt $attempt" >&2 ;;
        reject)
          echo "push-metrics: $target rejected the push$of ($reason); not retried: a rejected push will not get better" >&2 ;;
        retry)
          still="$still $target"
          failures="$failures
  $target: $reason"
          case " $announced " in
            *" $target "*) ;;
            *)
              announced="$announced $target"
              echo "push-metrics: could not push$of to $target ($reason); retrying for up to $bound s" >&2 ;;
          esac ;;
      esac
    done
    pending=$still
    [ -z "$pending" ] && break
    now=$(mono_ms)
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
      echo "push-metrics: delivered$of to $delivered of $count Pushgateway replicas; still failing after $attempt attempts:$failures" >&2
    else
      echo "push-metrics: could not push$of after $attempt attempts in $bound s:$failures" >&2
    fi
  fi
}

# The command runs as a child so that this shell can still push after it ends. Signals are passed
# on to it (one that comes before it starts, once it has); a trapped signal ends `wait` early, so
# the wrapper waits again until the command has really ended, and its status is the command's,
# not the signal's. A subshell, such as the start push, starts with these traps reset.
child=""
signal=""
forward() {
  signal=$1
  [ -n "$child" ] && kill -"$1" "$child" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward TERM' INT
trap 'forward HUP' HUP

# Where and how to push, known before the command starts, which the start push needs.
retry_seconds=${PUSHGATEWAY_RETRY_SECONDS:-$DEFAULT_RETRY_SECONDS}
case "$retry_seconds" in
  ''|*[!0-9]*)
    echo "push-metrics: PUSHGATEWAY_RETRY_SECONDS=$retry_seconds is not a whole number of seconds; using $DEFAULT_RETRY_SECONDS" >&2
    retry_seconds=$DEFAULT_RETRY_SECONDS ;;
esac

# One push URL per replica, each once; URLs hold no spaces or commas, so they travel as a
# space-separated list. An empty entry ("a,,b", a trailing comma) names no replica.
add_targets() {
  old_ifs=$IFS
  IFS=', '
  set -f
  for base in $1; do
    [ -n "$base" ] || continue
    case " $targets " in *" ${base%/}/metrics$group "*) continue ;; esac
    targets="$targets ${base%/}/metrics$group"
    count=$((count + 1))
  done
  set +f
  IFS=$old_ifs
}
group=$(path_label job "${BATCH_JOB_NAME:-}")
[ -n "${BATCH_JOB_CONTAINER:-}" ] && group="$group$(path_label batch_container "$BATCH_JOB_CONTAINER")"
targets=""
count=0
add_targets "${PUSHGATEWAY_URLS:-}"
[ "$count" -eq 0 ] && add_targets "${PUSHGATEWAY_URL:-}"

# Credentials travel in a header built here, never in the URL, which error messages print.
auth=""
if [ -n "${PUSHGATEWAY_USERNAME:-}" ]; then
  auth="Authorization: Basic $(printf '%s:%s' "$PUSHGATEWAY_USERNAME" "${PUSHGATEWAY_PASSWORD:-}" | base64 | tr -d '\n')"
fi

client=""
if [ "$count" -eq 0 ] || [ -z "${BATCH_JOB_NAME:-}" ]; then
  cannot_push="PUSHGATEWAY_URL (or PUSHGATEWAY_URLS) and BATCH_JOB_NAME must be set"
elif command -v curl >/dev/null 2>&1; then
  client=curl
elif command -v wget >/dev/null 2>&1; then
  client=wget
  # BusyBox's wget has no -nv and its -T crashes in some builds (Debian's 1.35): a watchdog
  # stands in for the timeout there.
  case "$(wget --help 2>&1)" in *BusyBox*) client=busybox-wget ;; esac
else
  cannot_push="neither curl nor wget is installed in the image"
fi

# The run start, pushed while the command already runs, so that no job waits for it.
start_pusher=""
if [ -n "$client" ]; then
  (
    body="# TYPE batch_job_running gauge
batch_job_running 1
"
    of=" the run start"
    attempt_seconds=$START_PUSH_SECONDS
    push_all $((retry_seconds < START_PUSH_SECONDS ? retry_seconds : START_PUSH_SECONDS))
    [ "$delivered" -eq 0 ] && echo "push-metrics: the run start was not delivered; the run goes on" >&2
  ) </dev/null &
  start_pusher=$!
fi

start=$(mono_ms)

# A background command's stdin is /dev/null unless redirected: it gets the wrapper's through fd 3.
{ command exec 3<&0; } 2>/dev/null || exec 3</dev/null
"$@" <&3 3<&- &
child=$!
exec 3<&-
# A signal that came before the command started.
[ -n "$signal" ] && kill -"$signal" "$child" 2>/dev/null
while :; do
  signal=""
  wait "$child"
  status=$?
  [ -z "$signal" ] && break
done
end=$(mono_ms)
ended_at=$(date +%s)
# Stopped while still pushing: the command's status, not the signal's, is the job's.
trap 'echo "push-metrics: stopped while pushing; the job'"'"'s exit status $status is kept" >&2; exit "$status"' TERM INT HUP

elapsed=$((end - start))
[ "$elapsed" -lt 0 ] && elapsed=0
duration="$((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000)))"

success=0
[ "$status" -eq 0 ] && success=1
# A status above 128 is how sh reports a command killed by signal status-128.
exit_signal="batch_job_exit_signal 0"
if [ "$status" -gt 128 ]; then
  name=$(kill -l "$((status - 128))" 2>/dev/null)
  case "$name" in
    [A-Z]*) exit_signal="batch_job_exit_signal{signal=\"SIG${name#SIG}\"} $((status - 128))" ;;
  esac
fi
body="# TYPE batch_job_success gauge
batch_job_success $success
# TYPE batch_job_duration_seconds gauge
batch_job_duration_seconds $duration
# TYPE batch_job_exit_code gauge
batch_job_exit_code $status
# TYPE batch_job_exit_signal gauge
$exit_signal
# TYPE batch_job_running gauge
batch_job_running 0
"
if [ "$success" -eq 1 ]; then
  body="$body# TYPE batch_job_last_success_timestamp_seconds gauge
batch_job_last_success_timestamp_seconds $ended_at
"
fi

if [ -z "$client" ]; then
  echo "push-metrics: $cannot_push; metrics not pushed; the job's exit status $status is kept" >&2
  exit "$status"
fi

# The start push ends first (it is bounded), so that the Pushgateway never gets it after the result.
[ -n "$start_pusher" ] && wait "$start_pusher"
of=""
attempt_seconds=10
push_all "$retry_seconds"
[ "$delivered" -eq 0 ] && echo "push-metrics: the result was not delivered; the job's exit status $status is kept" >&2
exit "$status"
