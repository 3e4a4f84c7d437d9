#!/usr/bin/env bash
# Every end-to-end figure of the storage work with one command: the shared harness
# (../shared/bench/run.py) on the workload shapes below, one or more SensorHub builds and the
# seed-style Python peer in the same runs, then a table of them (Benchmarks/shapes-table.py).
#
#   Benchmarks/storage-shapes.sh [OUTDIR] [LABEL=BINARY ...]
#
# OUTDIR defaults to /tmp/sensorhub-shapes-<date>; the builds default to
# swift=.build/release/sensorhub (build it first: swift build -c release). Shapes:
#   default  W1, W2, W3: 400,000 readings, 1,000 devices × 4 metrics, over 600 s (with the ceiling)
#   span20   W2, W3 with --span 20 (the live shape: each series' readings in two 10 s windows)
#   long     W2, 4,000,000 readings (10× longer: is memory flat?)
#   series   W2, 100,000 series (--devices 25000 --metrics 4)
#   series16 W2, 100,000 series of 16 readings each (--count 1600000): several flushes of
#            every series, each rewriting their chunks
# Set SHAPES="default span20" to run some of them, PEER=no to leave the peer out, REPS=N
# for repetitions (the harness interleaves servers within a repetition).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/sensorhub-shapes-$(date +%Y%m%d-%H%M%S)}
shift || true
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=("swift=$PWD/.build/release/sensorhub")
harness=../shared/bench/run.py
[ -f "$harness" ] || { echo "storage-shapes: $harness not found (the shared bench harness)" >&2; exit 1; }
mkdir -p "$out"

servers=()
if [ "${PEER:-yes}" != no ]; then
    servers+=(--server "peer=python3 ../shared/peers/python-seed/peer.py --db {db} --mqtt-port {mqtt} --http-port {http}")
fi
for build in "${builds[@]}"; do
    label=${build%%=*}
    binary=${build#*=}
    [ -x "$binary" ] || { echo "storage-shapes: $binary is not an executable" >&2; exit 1; }
    servers+=(--server "$label=$binary serve --db {db} --mqtt-url {mqtt_url} --http-port {http}")
done

run() {
    local shape=$1
    shift
    echo "== $shape: $*" >&2
    python3 "$harness" "${servers[@]}" --reps "${REPS:-1}" --out "$out/$shape.json" "$@" > "$out/$shape.log" 2>&1 \
        || { echo "storage-shapes: $shape failed, see $out/$shape.log" >&2; tail -20 "$out/$shape.log" >&2; exit 1; }
}

for shape in ${SHAPES:-default span20 long series series16}; do
    case $shape in
        default) run default --workloads w1,w2,w3 --ceiling yes ;;
        span20) run span20 --workloads w2,w3 --ceiling yes --span 20 ;;
        long) run long --workloads w2 --ceiling no --count 4000000 --timeout 900 ;;
        series) run series --workloads w2 --ceiling no --devices 25000 --metrics 4 --timeout 900 ;;
        series16) run series16 --workloads w2 --ceiling no --devices 25000 --metrics 4 --count 1600000 --timeout 900 ;;
        *) echo "storage-shapes: unknown shape $shape" >&2; exit 64 ;;
    esac
done
python3 Benchmarks/shapes-table.py "$out"/*.json | tee "$out/table.md"
