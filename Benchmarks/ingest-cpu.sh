#!/usr/bin/env bash
# The daemon's CPU while it takes W2's and W3's load, builds alternating: a finer instrument
# than the harness's server CPU, which counts whatever flush falls inside its run.
#
#   Benchmarks/ingest-cpu.sh [REPS] LABEL=BINARY ...      (REPS defaults to 5)
#
# Each run: a private mosquitto, the daemon with store.flush_interval 1h (no flush while it
# runs: a quiet flush waits a tenth of the interval after the last one), the shared
# harness's load generator with the harness's defaults (400,000 readings of 1,000 devices
# × 4 metrics over 600 s; W2: 100-reading QoS 1 MQTT messages, W3: 100-reading HTTP
# batches over 16 connections), and `perf stat -e task-clock` of the daemon from just
# before the load until every reading counts in `/v1/devices`. Reported per build and
# workload: the median and every run, in ms of CPU. WORKLOADS="w2 w3", COUNT=400000.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=5
if [[ ${1:-} =~ ^[0-9]+$ ]]; then reps=$1; shift; fi
[ $# -gt 0 ] || set -- "swift=$PWD/.build/release/sensorhub"
for tool in mosquitto perf curl python3 cc; do
    command -v "$tool" > /dev/null || { echo "ingest-cpu: $tool is missing" >&2; exit 1; }
done
count=${COUNT:-400000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
source Benchmarks/bench-lib.sh
loadgen=$work/loadgen
bench_build_loadgen "$loadgen"

results=$work/results
for rep in $(seq "$reps"); do
    for workload in ${WORKLOADS:-w2 w3}; do
        for build in "$@"; do
            label=${build%%=*} binary=${build#*=}
            run=$work/run && rm -rf "$run" && mkdir "$run"
            mqtt=$(bench_port) http=$(bench_port)
            bench_start_broker "$run" "$mqtt"
            SENSORHUB_STORE_FLUSH_INTERVAL=1h "$binary" serve --db "$run/sensorhub.db" --mqtt-url "mqtt://127.0.0.1:$mqtt" \
                --http-port "$http" > "$run/server.log" 2>&1 &
            server=$!
            for _ in $(seq 300); do curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break; sleep 0.1; done
            # Its subscription made, and start-up's work done.
            sleep 2
            perf stat -e task-clock -x, -o "$run/stat" -p "$server" &
            stat=$!
            sleep 0.2
            bench_load "$loadgen" "$workload" "$mqtt" "$http" "$run/loadgen.out"
            for _ in $(seq 600); do [ "$(bench_counted "$http")" -ge "$count" ] && break; sleep 0.1; done
            kill -INT "$stat"; wait "$stat" || true
            got=$(bench_counted "$http")
            kill "$server" "$broker"; wait "$server" "$broker" 2> /dev/null || true
            [ "$got" -eq "$count" ] || { echo "ingest-cpu: $label $workload counted $got of $count readings" >&2; exit 1; }
            ms=$(grep task-clock "$run/stat" | cut -d, -f1)
            echo "$workload $label $ms" | tee -a "$results"
        done
    done
done
python3 - "$results" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    workload, label, ms = line.split()
    runs[(workload, label)].append(float(ms))
print("workload  build  median ms CPU  runs")
for (workload, label), values in sorted(runs.items()):
    print(f"{workload:8}  {label:5}  {statistics.median(values):13.0f}  {' '.join(f'{v:.0f}' for v in sorted(values))}")
EOF
