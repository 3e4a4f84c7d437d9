#!/usr/bin/env bash
# Runs the kill -9 crash-recovery test with more trials than the test suite's 20:
#   scripts/crash-trials.sh [TRIALS]   (default 200)
# Each trial kills the daemon at a random moment under HTTP and MQTT QoS 1 load with seq
# numbers and restarts it; at the end every acknowledged reading must be counted once.
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-200}"
scripts/setup.sh
swift build --build-tests
SENSORHUB_CRASH_TRIALS="$trials" swift test --skip-build --filter 'CrashRecoveryTests/killNineUnderLoadLosesNothingAndCountsNothingTwice'
