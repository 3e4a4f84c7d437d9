#!/usr/bin/env bash
# What TLS costs SensorHub: the same loads with and without TLS, in one run.
#
#   Benchmarks/tls-cost.sh [BINARY]        (default .build/release/sensorhub)
#
# MQTT (W1's shape: one reading per QoS 1 message, 1000 devices × 4 metrics): the shared
# harness's load generator publishes 100,000 messages to mosquitto's plain listener; the
# daemon takes them from a plain listener, then from a TLS one (mqtts://, broker
# certificate verified). Reported: readings/s until all are stored, and the daemon's CPU.
#
# HTTP (W3's shape: 100-reading JSON batches, 16 connections): wrk posts for 10 s to the
# daemon over HTTP, then over HTTPS (the loadgen has no TLS; wrk has). Reported: accepted
# readings/s and the daemon's CPU per reading.
#
# Certificates come from openssl (a throwaway CA); needs mosquitto, openssl, curl, wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/sensorhub}
for tool in mosquitto openssl curl wrk python3 bc cc; do
    command -v "$tool" > /dev/null || { echo "tls-cost: $tool is missing" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
count=${COUNT:-100000}
# The shared harness's C load generator, built here so that the harness folder stays untouched.
loadgen=$work/loadgen
cc -O2 -o "$loadgen" ../shared/bench/loadgen.c -lmosquitto -lpthread -lm

# A CA and a certificate for 127.0.0.1.
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${key[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj "/CN=tls-cost CA" 2> /dev/null
openssl req "${key[@]}" -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=127.0.0.1" 2> /dev/null
echo "subjectAltName=IP:127.0.0.1" > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/server.pem" -days 2 -extfile "$work/ext" 2> /dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(port); tls=$(port)
cat > "$work/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
user root
max_queued_messages 0
listener $plain 127.0.0.1
listener $tls 127.0.0.1
cafile $work/ca.pem
certfile $work/server.pem
keyfile $work/server.key
tls_version tlsv1.2
EOF
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
sleep 0.5

cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
# Readings the daemon at $1 has stored (0 while it cannot answer).
stored() { curl -sf "$1/v1/devices" | python3 -c 'import json,sys; print(sum(d["readings"] for d in json.load(sys.stdin)))' 2> /dev/null || echo 0; }

# $1 label, $2 daemon URL scheme, then serve arguments.
start_daemon() {
    local label=$1
    shift
    rm -rf "$work/$label" && mkdir "$work/$label"
    "$binary" serve --db "$work/$label/db" --http-port 0 "$@" > "$work/$label/log" 2>&1 &
    daemon=$!
    until grep -q "listening http" "$work/$label/log"; do sleep 0.05; done
    address=$(grep -o "listening https\?=[0-9.:]*" "$work/$label/log" | head -1 | cut -d= -f2)
}

mqtt_run() {
    local label=$1 url=$2
    shift 2
    start_daemon "$label" --mqtt-url "$url" "$@"
    until grep -q "connected to broker" "$work/$label/log"; do sleep 0.05; done
    local before started
    before=$(cpu "$daemon")
    started=$(date +%s.%N)
    "$loadgen" mqtt --port "$plain" --qos 1 --payload single --count "$count" \
        --start $(( ($(date +%s) - 600) / 60 * 60 )) --span-s 600 > /dev/null
    local deadline=$((SECONDS + 300))
    until [ "$(stored "http://$address")" -ge "$count" ]; do
        [ $SECONDS -lt $deadline ] || { echo "tls-cost: $label stored $(stored "http://$address") of $count in 300 s" >&2; exit 1; }
        sleep 0.05
    done
    local seconds used
    seconds=$(echo "$(date +%s.%N) - $started" | bc)
    used=$(echo "$(cpu "$daemon") - $before" | bc)
    printf '| MQTT W1 | %s | %.0f readings/s | %.2f s | %.1f µs |\n' "$label" "$(echo "$count / $seconds" | bc -l)" "$used" "$(echo "$used * 1000000 / $count" | bc -l)"
    kill "$daemon"; wait "$daemon" 2> /dev/null || true
}

# One 100-reading JSON body (no seq: each post counts again).
python3 - "$work/body.json" <<'EOF'
import json, sys, time
ts = int(time.time()) - 60
json.dump([{"device": f"dev-{i % 25:05d}", "metric": f"m{i % 4}", "value": i * 1.5, "ts": ts} for i in range(100)], open(sys.argv[1], "w"))
EOF
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json"); wrk.body = f:read("*a"); f:close()
EOF

http_run() {
    local label=$1 scheme=$2
    shift 2
    start_daemon "$label" --mqtt-url "mqtt://127.0.0.1:$plain" "$@"
    local curl_options=""
    [ "$scheme" = https ] && curl_options="--cacert $work/ca.pem"
    until curl -sf $curl_options "$scheme://$address/healthz" > /dev/null; do sleep 0.05; done
    local before after
    before=$(cpu "$daemon")
    wrk -t2 -c16 -d10s -s "$work/post.lua" "$scheme://$address/v1/readings" > "$work/$label/wrk" 2>&1
    after=$(cpu "$daemon")
    if grep -q "Non-2xx" "$work/$label/wrk"; then echo "tls-cost: $label had refused requests:" >&2; cat "$work/$label/wrk" >&2; fi
    local requests seconds readings
    requests=$(awk '/requests in/ {print $1}' "$work/$label/wrk")
    seconds=$(awk '/requests in/ {sub(/s,/, "", $4); print $4}' "$work/$label/wrk")
    readings=$((requests * 100))
    printf '| HTTP W3 | %s | %.0f readings/s | %.2f s | %.1f µs |\n' "$label" "$(echo "$readings / $seconds" | bc -l)" \
        "$(echo "$after - $before" | bc)" "$(echo "($after - $before) * 1000000 / $readings" | bc -l)"
    kill "$daemon"; wait "$daemon" 2> /dev/null || true
}

echo "| load | transport | throughput | daemon CPU | CPU per reading |"
echo "| --- | --- | --- | --- | --- |"
mqtt_run plain "mqtt://127.0.0.1:$plain"
export SENSORHUB_MQTT_TLS_CA=$work/ca.pem
mqtt_run tls "mqtts://127.0.0.1:$tls"
unset SENSORHUB_MQTT_TLS_CA
http_run plain http
http_run tls https --tls-cert "$work/server.pem" --tls-key "$work/server.key"
