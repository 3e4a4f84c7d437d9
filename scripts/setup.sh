#!/usr/bin/env bash
# Installs the Debian packages SensorHub needs to build, test and run, if any is missing.
# Idempotent and quiet when everything is there; uses sudo when not root.
set -euo pipefail

packages=(libsqlite3-dev libmosquitto-dev mosquitto mosquitto-clients pkg-config curl sqlite3 util-linux)
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
