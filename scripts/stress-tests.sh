#!/usr/bin/env bash
# Runs the integration tests RUNS times in a row (default 5) while a burner keeps every core busy,
# to show that no test rests on a margin a loaded machine can eat. The burner is one busy loop per
# core at normal priority; each stops by itself (timeout) and is killed by its PID at the end.
#
#   bash scripts/stress-tests.sh [RUNS] [vitest arguments...]   (default: --project integration)
#
# The default is the integration project: the tests that wait on servers and clocks. The
# cpu-bound and unit projects have no timing to break, only timeouts, and a burner at normal
# priority leaves them (at a lower one) too little CPU to be worth running here.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
shift || true
[ $# -gt 0 ] || set -- --project integration
cores=$(nproc)
out=$(mktemp -d)
burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  wait "${burners[@]}" 2>/dev/null
}
trap stop_burners EXIT

# At most 15 minutes a run: the burners end by then whatever happens to this script.
for _ in $(seq "$cores"); do
  timeout $((runs * 900)) sh -c 'while :; do :; done' &
  burners+=($!)
done
echo "stress: ${#burners[@]} busy loops (PIDs ${burners[*]}) on $cores cores; vitest $*"

failures=0
summary=()
for i in $(seq "$runs"); do
  started=$(date +%s)
  node node_modules/vitest/vitest.mjs run "$@" --reporter=dot --reporter=json --outputFile.json="$out/run-$i.json" >"$out/run-$i.log" 2>&1
  status=$?
  seconds=$(($(date +%s) - started))
  counts=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const failed = r.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status === "failed").map((t) => `${f.name.replace(/.*\/test\//, "test/")}: ${t.fullName}`));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
    for (const name of failed) console.log(`  failed: ${name}`);
  ' "$out/run-$i.json" 2>/dev/null || echo "no report (exit $status)")
  [ "$status" -eq 0 ] || failures=$((failures + 1))
  line="run $i: $(echo "$counts" | head -1), ${seconds} s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  summary+=("$line")
  echo "$line"
  echo "$counts" | tail -n +2
  [ "$status" -eq 0 ] || echo "  log: $out/run-$i.log"
done

echo
echo "stress: $runs runs with every core busy, $failures failed"
printf '  %s\n' "${summary[@]}"
[ "$failures" -eq 0 ]
