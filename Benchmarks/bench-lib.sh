# Sourced by the benchmark scripts beside it (from the repository root): the shared
# harness's load generator with its defaults, free ports, a private broker, the readings a
# daemon counts. Not a script of its own.

# Builds the shared harness's C load generator at $1, so that the harness folder stays untouched.
bench_build_loadgen() {
    cc -O2 -o "$1" ../shared/bench/loadgen.c -lmosquitto -lpthread -lm
}

# A free TCP port on 127.0.0.1.
bench_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Readings the daemon answering on 127.0.0.1:$1 counts in /v1/devices (0 while it cannot answer).
bench_counted() {
    curl -sf "http://127.0.0.1:$1/v1/devices" \
        | python3 -c 'import json,sys; print(sum(d["readings"] for d in json.load(sys.stdin)))' 2> /dev/null || echo 0
}

# Starts a private mosquitto on port $2 with its configuration in folder $1; its pid in
# `broker`. It keeps every QoS 1 message for a subscriber that falls behind
# (max_queued_messages 0, as deploy/mosquitto.conf): mosquitto's default drops them past
# 1,000, and a daemon under W2 falls that far behind.
bench_start_broker() {
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' "$2" > "$1/mosquitto.conf"
    [ "$(id -u)" != 0 ] || echo "user root" >> "$1/mosquitto.conf"
    mosquitto -c "$1/mosquitto.conf" > /dev/null 2>&1 &
    broker=$!
}

# Runs load generator $1 with the harness's defaults (COUNT readings, 400,000, of 1,000
# devices × 4 metrics over SPAN s, 600) as workload $2 (w2: 100-reading QoS 1 MQTT messages
# to port $3; w3: 100-reading HTTP batches over 16 connections to port $4); its summary to $5.
bench_load() {
    local args=(--devices 1000 --metrics 4 --count "${COUNT:-400000}" --start $(( $(date +%s) / 60 * 60 - 600 ))
                --span-s "${SPAN:-600}" --seed 1)
    if [ "$2" = w3 ]; then
        "$1" http --port "$4" --batch 100 --conns 16 "${args[@]}" > "$5"
    else
        "$1" mqtt --port "$3" --qos 1 --payload batch --batch 100 --batch-topic sensors/gw/1/batch "${args[@]}" > "$5"
    fi
}
