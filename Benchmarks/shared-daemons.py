#!/usr/bin/env python3
"""N SensorHub daemons on one PostgreSQL database and one MQTT shared subscription group,
as one --server of the shared harness (../shared/bench/run.py):

    --server 'pg3=python3 Benchmarks/shared-daemons.py --daemons 3 --binary BIN --postgres URL \
              --dir {dir} --mqtt-url {mqtt_url} --mqtt-port {mqtt} --http-port {http}'

A fresh database is created on the server at URL for every run. Member 0 listens on the
harness's HTTP port (W3 goes to it alone); the others on the next ports. Each member has
its own client id and journal directory. SIGTERM is passed on to every member, and this
script exits once they all have, so the harness's CPU figure (the rusage of this process
once reaped) includes every member.

The harness waits for a subscription to sensors/... in the broker log before it publishes;
members subscribe as $share/bench/sensors/#, which it does not recognise. Once every member
is connected, a mosquitto_sub on sensors/bench-ready (a topic nothing publishes to) stands
in for them.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daemons", type=int, required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--postgres", required=True, help="URL of the server's postgres database (a superuser)")
    p.add_argument("--dir", required=True)
    p.add_argument("--mqtt-url", required=True)
    p.add_argument("--mqtt-port", required=True)
    p.add_argument("--http-port", type=int, required=True)
    a = p.parse_args()

    name = "bench_" + uuid.uuid4().hex[:8]
    admin = urllib.parse.urlsplit(a.postgres)
    subprocess.run(["psql", "-h", admin.hostname, "-p", str(admin.port or 5432), "-U", admin.username or "postgres",
                    "-d", admin.path.lstrip("/") or "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    url = urllib.parse.urlunsplit(admin._replace(path="/" + name))

    members = []
    for index in range(a.daemons):
        folder = os.path.join(a.dir, f"member-{index}")
        os.makedirs(folder, exist_ok=True)
        env = dict(os.environ, SENSORHUB_MQTT_SHARED_GROUP="bench", SENSORHUB_MQTT_CLIENT_ID=f"bench-{index}",
                   SENSORHUB_JOURNAL_DIRECTORY=os.path.join(folder, "journal"))
        log = open(os.path.join(folder, "daemon.log"), "w")
        members.append(subprocess.Popen(
            [a.binary, "serve", "--db", url, "--mqtt-url", a.mqtt_url, "--http-port", str(a.http_port + index)],
            env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT))

    def forward(signum, _frame):
        for member in members:
            if member.poll() is None:
                member.send_signal(signum)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    deadline = time.monotonic() + 60
    while True:
        logs = [open(os.path.join(a.dir, f"member-{i}", "daemon.log")).read() for i in range(a.daemons)]
        if all("connected to broker" in text for text in logs):
            break
        died = [i for i, member in enumerate(members) if member.poll() is not None]
        if died or time.monotonic() > deadline:
            what = f"member {died[0]} exited" if died else "not every member connected to the broker within 60 s"
            print(f"shared-daemons: {what}; see {a.dir}/member-*/daemon.log", file=sys.stderr)
            forward(signal.SIGTERM, None)
            for member in members:
                member.wait()
            sys.exit(1)
        time.sleep(0.1)
    marker = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", a.mqtt_port, "-t", "sensors/bench-ready"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    codes = [member.wait() for member in members]
    marker.terminate()
    marker.wait()
    sys.exit(max(codes))


if __name__ == "__main__":
    main()
