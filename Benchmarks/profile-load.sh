#!/usr/bin/env bash
# Where the daemon's CPU goes under W2 or W3: `perf record -g` of the daemon while the shared
# harness's load generator runs, then its threads' samples split by pipeline stage
# (Benchmarks/perf-split.py), as in Benchmarks/README's session 47.
#
#   Benchmarks/profile-load.sh w2|w3 [BINARY]        (BINARY defaults to .build/release/sensorhub)
#
# A private mosquitto that keeps every QoS 1 message for a subscriber that falls behind
# (max_queued_messages 0, as deploy/mosquitto.conf; mosquitto's default drops them past
# 1,000, and the profile would then be of fewer messages than were sent), the daemon with
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
loadgen=$out/loadgen
cc -O2 -o "$loadgen" ../shared/bench/loadgen.c -lmosquitto -lpthread -lm
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
counted() { curl -sf "http://127.0.0.1:$1/v1/devices" | python3 -c 'import json,sys; print(sum(d["readings"] for d in json.load(sys.stdin)))' 2> /dev/null || echo 0; }

mqtt=$(port) http=$(port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$mqtt" > "$out/mosquitto.conf"
[ "$(id -u)" != 0 ] || echo "user root" >> "$out/mosquitto.conf"
mosquitto -c "$out/mosquitto.conf" > /dev/null 2>&1 &
broker=$!
rm -rf "$out"/sensorhub.db*
SENSORHUB_STORE_FLUSH_INTERVAL=10s "$binary" serve --db "$out/sensorhub.db" --mqtt-url "mqtt://127.0.0.1:$mqtt" \
    --http-port "$http" > "$out/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break; sleep 0.1; done
sleep 2
perf record -F "${FREQ:-4000}" -g -p "$server" -o "$out/perf.data" > /dev/null 2>&1 &
recorder=$!
sleep 0.3
args=(--devices 1000 --metrics 4 --count "$count" --start $(( $(date +%s) / 60 * 60 - 600 )) --span-s "${SPAN:-600}" --seed 1)
if [ "$workload" = w3 ]; then
    "$loadgen" http --port "$http" --batch 100 --conns 16 "${args[@]}" > "$out/loadgen.out"
else
    "$loadgen" mqtt --port "$mqtt" --qos 1 --payload batch --batch 100 --batch-topic sensors/gw/1/batch "${args[@]}" > "$out/loadgen.out"
fi
for _ in $(seq 600); do [ "$(counted "$http")" -ge "$count" ] && break; sleep 0.1; done
# The flush after the load (quiet for 50 ms, then at least a tenth of the interval after the last).
sleep 3
kill -INT "$recorder"; wait "$recorder" || true
got=$(counted "$http")
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
