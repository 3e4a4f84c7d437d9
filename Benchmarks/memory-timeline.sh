#!/usr/bin/env bash
# The daemon's memory over time, as the shared harness runs it: pass this script as the
# harness's server command, with the binary in SBIN and the output file in SOUT. It starts
# the daemon, then every 50 ms appends a line of seconds since start, the daemon's Rss,
# Anonymous memory and clean pages (/proc/PID/smaps_rollup), VmHWM, RssAnon and RssFile.
#
#   SBIN=.build/release/sensorhub SOUT=/tmp/timeline.log python3 ../shared/bench/run.py \
#     --reps 1 --workloads w2 --ceiling no --devices 25000 --metrics 4 \
#     --server "s=$PWD/Benchmarks/memory-timeline.sh serve --db {db} --mqtt-url {mqtt_url} --http-port {http}"
#
# The harness's own CPU and RSS figures are then this script's, not the daemon's: use it to
# see when memory peaks, and the harness's runs without it for the figures.
set -u
"${SBIN:?the daemon binary}" "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
start=$(date +%s.%N)
while kill -0 $child 2>/dev/null; do
    now=$(date +%s.%N)
    rollup=$(awk '/^Rss:|^Anonymous:|^Private_Clean:|^Shared_Clean:/{printf "%s %s ", $1, $2}' /proc/$child/smaps_rollup 2>/dev/null)
    status=$(awk '/VmHWM|RssFile|RssAnon/{printf "%s %s ", $1, $2}' /proc/$child/status 2>/dev/null)
    [ -n "$rollup" ] && echo "$(echo "$now - $start" | bc) $rollup$status" >> "${SOUT:?the output file}"
    sleep 0.05
done
wait $child
