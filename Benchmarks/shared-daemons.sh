#!/usr/bin/env bash
# Throughput of 1, 2 and 3 daemons on one PostgreSQL against one daemon on SQLite, in one
# run of the shared harness (W2: MQTT batches, which the broker spreads over the members of
# the shared group; W3: HTTP batches, which all go to member 0). Starts its own PostgreSQL
# server in a temporary folder (Debian's postgresql package; as the postgres user when run
# as root). Usage, from the repository root after `swift build -c release`:
#   Benchmarks/shared-daemons.sh [harness flags, e.g. --reps 2 --workloads w2]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build -c release --show-bin-path)/sensorhub"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
folder="$(mktemp -d /tmp/sensorhub-pg-bench.XXXX)"
port=55499
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$folder"; as_postgres=(runuser -u postgres --); fi
"${as_postgres[@]}" "$pgbin/initdb" -D "$folder/data" -A trust -U postgres --no-sync >/dev/null
"${as_postgres[@]}" "$pgbin/postgres" -D "$folder/data" -p "$port" -k "$folder" -c listen_addresses=127.0.0.1 \
    -c max_connections=200 > "$folder/server.log" 2>&1 &
server=$!
# Under runuser the postmaster is runuser's child: stop it by its pid file.
trap 'kill -INT "$(head -1 "$folder/data/postmaster.pid" 2>/dev/null)" $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$folder"' EXIT
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
members() {
    echo "pg$1=python3 Benchmarks/shared-daemons.py --daemons $1 --binary $bin --postgres $admin --dir {dir} --mqtt-url {mqtt_url} --mqtt-port {mqtt} --http-port {http}"
}
python3 ../shared/bench/run.py --ceiling no --workloads "${WORKLOADS:-w2,w3}" \
    --server "sqlite=$bin serve --db {db} --mqtt-url {mqtt_url} --http-port {http}" \
    --server "$(members 1)" --server "$(members 2)" --server "$(members 3)" "$@"
