#!/usr/bin/env bash
# Where the daemon's CPU goes under W2 or W3: `perf record -g` of the daemon while the shared
# harness's load generator runs, then its threads' samples split by pipeline stage
# (Benchmarks/perf-split.py), as in Benchmarks/README's session 47.
#
#   Benchmarks/profile-load.sh w2|w3 [BINARY]        (BINARY defaults to .build/release/sensorhub)
#
# A private mosquitto that keeps every QoS 1 message for a subscriber that falls behind
# (bench-lib.sh; with mosquitto's defaults the profile would be of fewer messages than
# were sent), the daemon with
# store.flush_interval 10s (no interval's flush inside the load; the flush after it, once
# ingest is quiet, is recorded and shown apart), the load generator with the harness's
# defaults (400,000 readings of 1,000 devices × 4 metrics over 600 s; COUNT, SPAN change
# them), perf at FREQ Hz (4000). Keeps the recording in OUT (a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:?usage: profile-load.sh w2|w3 [BINARY]}
binary=${2:-$PWD/.build/release/sensorhub}
for tool in mosquitto perf curl python3 cc; do
    command -v "$tool" > /dev/null || { echo "profile-load: $tool is missing" >&2; exit 1; }
done
count=${COUNT:-400000}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null' EXIT
source Benchmarks/bench-lib.sh
loadgen=$out/loadgen
bench_build_loadgen "$loadgen"

mqtt=$(bench_port) http=$(bench_port)
bench_start_broker "$out" "$mqtt"
rm -rf "$out"/sensorhub.db*
SENSORHUB_STORE_FLUSH_INTERVAL=10s "$binary" serve --db "$out/sensorhub.db" --mqtt-url "mqtt://127.0.0.1:$mqtt" \
    --http-port "$http" > "$out/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break; sleep 0.1; done
sleep 2
perf record -F "${FREQ:-4000}" -g -p "$server" -o "$out/perf.data" > /dev/null 2>&1 &
recorder=$!
sleep 0.3
bench_load "$loadgen" "$workload" "$mqtt" "$http" "$out/loadgen.out"
for _ in $(seq 600); do [ "$(bench_counted "$http")" -ge "$count" ] && break; sleep 0.1; done
# The flush after the load (quiet for 50 ms, then at least a tenth of the interval after the last).
sleep 3
kill -INT "$recorder"; wait "$recorder" || true
got=$(bench_counted "$http")
kill "$server" "$broker"; wait "$server" "$broker" 2> /dev/null || true
[ "$got" -eq "$count" ] || { echo "profile-load: counted $got of $count readings" >&2; exit 1; }
perf script -i "$out/perf.data" -F comm,time,ip,sym > "$out/perf.txt" 2> /dev/null

stages=(--stage decode=ReadingDecoder --stage check=IngestEntryV5check --stage journal=ShardIngress
        --stage apply=ShardAggregator --stage route=IngestRoutes
        --stage submit='submitCheckedBlocking|submitBlocking' --stage gather=MessageRound)
echo "recording: $out/perf.data, samples: $out/perf.txt"
python3 - "$out/perf.txt" <<'PY'
import collections, sys
threads = collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    if line.strip() and not line.startswith((" ", "\t")):
        threads[" ".join(line.split()[:-1])] += 1
print("samples by thread:", ", ".join(f"{name} {n}" for name, n in threads.most_common()))
PY
if [ "$workload" = w2 ]; then
    python3 Benchmarks/perf-split.py "$out/perf.txt" --thread sensorhub-mqtt "${stages[@]}"
fi
python3 Benchmarks/perf-split.py "$out/perf.txt" --thread NIO-SGLTN --without overcommit "${stages[@]}"
echo "the flush (after the load):"
python3 Benchmarks/perf-split.py "$out/perf.txt" --thread overcommit --stage sqlite=sqlite3 \
    --stage 'build=SeriesAccumulator|WindowList|PendingGroups' --stage store=SensorStore
