#!/usr/bin/env bash
# `make run`: SensorHub on its embedded defaults (HTTP 127.0.0.1:8080, ./sensorhub.db,
# MQTT 127.0.0.1:1883). When no broker listens on 1883 it starts a local mosquitto with
# the shipped deploy/mosquitto.conf (persistence in ./.mosquitto/), stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

broker_pid=""
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    mkdir -p .mosquitto
    sed -e "s|^persistence_location .*|persistence_location $PWD/.mosquitto/|" deploy/mosquitto.conf > .mosquitto/mosquitto.conf
    [ "$(id -u)" -ne 0 ] || echo "user root" >> .mosquitto/mosquitto.conf
    mosquitto -c .mosquitto/mosquitto.conf > .mosquitto/mosquitto.log 2>&1 &
    broker_pid=$!
    echo "run: started mosquitto on 127.0.0.1:1883 (log in .mosquitto/mosquitto.log)"
    trap 'kill "$broker_pid" 2>/dev/null || true' EXIT
fi
.build/release/sensorhub serve "$@"
