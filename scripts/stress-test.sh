#!/usr/bin/env bash
# The suite as CI meets it, and worse: a fresh clone of a commit runs `CI=true bash .ci/run`
# once, then `make test` RUNS more times while stress-ng keeps every core busy. A test that
# sleeps a fixed time, or blocks the few threads Swift concurrency has, fails here first.
#
#   scripts/stress-test.sh [REV] [RUNS]      (default HEAD, 3 runs; needs stress-ng)
#
# Prints one line per run (exit status, seconds, the test summary); logs stay in the
# printed folder. Exits 1 when any run failed.
set -uo pipefail
rev=$(git -C "$(dirname "$0")/.." rev-parse --short "${1:-HEAD}")
runs=${2:-3}
command -v stress-ng > /dev/null || { echo "stress-test: stress-ng is missing (apt-get install stress-ng)" >&2; exit 1; }
work=$(mktemp -d /tmp/sensorhub-stress-XXXXXX)
git clone -q "$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)" "$work/clone"
cd "$work/clone" && git checkout -q "$rev"
echo "stress-test: $rev in $work"

failed=0
summary() { grep -E 'Test run with' "$1" | tail -1; }
start=$SECONDS
CI=true bash .ci/run > "$work/ci.log" 2>&1
status=$?
[ $status -eq 0 ] || failed=1
echo "ci: exit $status, $((SECONDS - start)) s, $(summary "$work/ci.log")"

stress-ng --cpu "$(nproc)" --timeout 4h --quiet &
stress=$!
trap 'kill $stress 2>/dev/null' EXIT
for run in $(seq "$runs"); do
    start=$SECONDS
    CI=true make test > "$work/stress-$run.log" 2>&1
    status=$?
    [ $status -eq 0 ] || failed=1
    echo "under stress-ng, run $run: exit $status, $((SECONDS - start)) s, $(summary "$work/stress-$run.log")"
done
exit $failed
