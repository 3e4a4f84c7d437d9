#!/usr/bin/env bash
# Installs the Debian packages SensorHub needs to build, test and run, if any is missing.
# `--tests` adds what only the tests need (chromium and python3 for the dashboard test,
# the PostgreSQL server the PostgreSQL store's tests start in a temporary folder).
# Idempotent and quiet when everything is there; uses sudo when not root.
set -euo pipefail

packages=(libsqlite3-dev libmosquitto-dev libssl-dev zlib1g-dev gzip openssl mosquitto mosquitto-clients pkg-config curl sqlite3 util-linux)
if [ "${1:-}" = "--tests" ]; then packages+=(chromium python3 postgresql); fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or later is needed)" >&2; exit 1; }
