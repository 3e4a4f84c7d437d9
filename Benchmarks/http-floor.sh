#!/usr/bin/env bash
# How fast HTTP alone goes under W3's load generator on this machine, beside the daemon:
# the floor of W3's rate that no ingest work can go below.
#
#   Benchmarks/http-floor.sh [REPS] [SENSORHUB_BINARY]      (REPS defaults to 5)
#
# Each repetition runs, one after another, W3's load generator with the harness's defaults
# (400,000 readings of 1,000 devices × 4 metrics, 100-reading batches over 16 connections)
# against three servers: `plain` and `ws`, the no-op Hummingbird server of
# experiments/http-floor (the body collected and its `{` counted, nothing decoded or stored;
# `ws` with SensorHub's HTTP/1 channel with WebSocket upgrades, `plain` without), and
# `sensorhub`, the daemon with store.flush_interval 10s (so that no interval's flush falls in
# the load). Reported: the load generator's own rate (the servers' acknowledgement pace; the
# harness counts later, at its polls) and each server's CPU during the load.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=5
if [[ ${1:-} =~ ^[0-9]+$ ]]; then reps=$1; shift; fi
daemon=${1:-$PWD/.build/release/sensorhub}
for tool in curl python3 cc swift; do
    command -v "$tool" > /dev/null || { echo "http-floor: $tool is missing" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
source Benchmarks/bench-lib.sh
loadgen=$work/loadgen
bench_build_loadgen "$loadgen"
(cd Benchmarks/experiments/http-floor && flock /tmp/sensorhub-build.lock swift build -c release > "$work/build.log" 2>&1) \
    || { echo "http-floor: building experiments/http-floor failed; see $work/build.log" >&2; exit 1; }
floor=Benchmarks/experiments/http-floor/.build/release/http-floor
cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; }

# run LABEL PORT COMMAND...: one load against the server COMMAND starts on PORT.
run() {
    local label=$1 http=$2; shift 2
    "$@" > "$work/$label.log" 2>&1 &
    local server=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break; sleep 0.05; done
    sleep 0.5
    local before; before=$(cpu_ms "$server")
    bench_load "$loadgen" w3 - "$http" "$work/loadgen.out" 2> /dev/null
    local after; after=$(cpu_ms "$server")
    kill "$server"; wait "$server" 2> /dev/null || true
    python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).readline())
print("%-10s %12s readings/s  ok %7d  server CPU %s ms" % (sys.argv[2], format(round(d["readings_per_s"]), ","), d["readings_ok"], sys.argv[3]))' \
        "$work/loadgen.out" "$label" $(( after - before ))
}

for rep in $(seq 1 "$reps"); do
    echo "repetition $rep"
    http=$(bench_port); run plain "$http" "$floor" "$http" plain
    http=$(bench_port); run ws "$http" "$floor" "$http" ws
    http=$(bench_port); rm -rf "$work"/sensorhub.db*
    run sensorhub "$http" env SENSORHUB_STORE_FLUSH_INTERVAL=10s SENSORHUB_MQTT_ENABLED=false "$daemon" serve --db "$work/sensorhub.db" --http-port "$http"
done
