#!/usr/bin/env python3
"""Bytes on disk per stored bucket, and the database file under retention.

    Benchmarks/disk-bytes.py [--binary .build/release/sensorhub] [--series 1000] [--per-window 10]
    Benchmarks/disk-bytes.py --retention-run 960      # also: 16 minutes of live readings under a short retention

Size: starts the daemon on a fresh database (HTTP only, no broker), posts one hour of
readings for every series, --per-window readings in each 10 s window, evenly spaced, once
with values of a steady sensor (21.5 plus a slow swing and noise, two decimals) and once
with the shared harness's values (uniform over [-50, 150], three decimals), stops the
daemon (its last flush) and reads the file: per resolution, the chunks' bytes per bucket,
and the file's bytes (SQLite's pages, indexes and free pages included) per 10 s bucket.

Retention run: a daemon keeping 10 s buckets one minute (the others as by default), with
a retention pass every 10 s, takes a reading per series and second at the current time;
every minute the file's size, its free pages and each resolution's chunk bytes are
printed. Retention deletes whole chunks (32 windows: 5 min 20 s of 10 s buckets), so the
10 s chunks stop growing from about the 7th minute on, their freed pages taken again by
the next ones; without VACUUM, the file then grows only by the 1 m and 1 h buckets kept.
"""
import argparse
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, db, env_extra=None):
    port = free_port()
    env = dict(os.environ, **(env_extra or {}))
    log = open(db + ".log", "w")
    proc = subprocess.Popen([binary, "serve", "--db", db, "--mqtt-url", "mqtt://127.0.0.1:1", "--http-port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"daemon not healthy within 60 s; see {db}.log")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=120) != 0:
        sys.exit(f"daemon exited with {proc.returncode}")


def post(port, readings):
    body = json.dumps(readings, separators=(",", ":")).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/readings", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer.get("accepted") != len(readings):
        sys.exit(f"only {answer} of {len(readings)} readings taken")


def steady(series, t, rng):
    return round(21.5 + 0.8 * math.sin(2 * math.pi * t / 3600 + series) + rng.gauss(0, 0.05), 2)


def uniform(series, t, rng):
    return round(rng.uniform(-50, 150), 3)


def name(series):
    return f"dev-{series // 4:05d}", f"m{series % 4}"


def size_run(a, values, label):
    directory = tempfile.mkdtemp(prefix="sensorhub-disk-")
    db = os.path.join(directory, "sensorhub.db")
    proc, port = start(a.binary, db)
    # One whole hour, aligned, in the past: 360 windows of 10 s, 60 of 1 m, one of 1 h.
    start_s = (int(time.time()) // 3600 - 2) * 3600
    rng = random.Random(1)
    step = 10 / a.per_window
    batch, total = [], 0
    for index in range(int(3600 / step)):
        t = start_s + index * step
        for series in range(a.series):
            device, metric = name(series)
            batch.append({"device": device, "metric": metric, "value": values(series, t, rng), "ts": round(t, 3)})
            if len(batch) == 5000:
                post(port, batch)
                total += len(batch)
                batch = []
    if batch:
        post(port, batch)
        total += len(batch)
    stop(proc)

    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = connection.execute("SELECT sum(readings) FROM series").fetchone()[0]
    if stored != total:
        sys.exit(f"{label}: the file counts {stored} readings of {total}")
    buckets = {10: a.series * 360, 60: a.series * 60, 3600: a.series}
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    print(f"{label}: {a.series} series x 1 h, {a.per_window} readings per 10 s window ({total:,} readings)")
    print("| resolution | buckets | chunks | chunk bytes | bytes per bucket |")
    print("| --- | --- | --- | --- | --- |")
    for resolution, chunks, data in connection.execute(
            "SELECT resolution_s, count(*), sum(length(data)) FROM chunks GROUP BY resolution_s ORDER BY resolution_s"):
        print(f"| {resolution} s | {buckets[resolution]:,} | {chunks:,} | {data:,} | {data / buckets[resolution]:.1f} |")
    file_bytes = pages * page_size
    print(f"file: {file_bytes:,} bytes in {pages:,} pages of {page_size} ({free} free): "
          f"{file_bytes / buckets[10]:.1f} bytes per 10 s bucket, every resolution, table and index included")
    try:
        for table, size in connection.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC LIMIT 4"):
            print(f"  {table}: {size:,} bytes")
    except sqlite3.OperationalError:
        pass  # SQLite built without the dbstat table
    print()
    connection.close()


def retention_run(a):
    directory = tempfile.mkdtemp(prefix="sensorhub-retention-")
    db = os.path.join(directory, "sensorhub.db")
    proc, port = start(a.binary, db, {"SENSORHUB_STORE_RETENTION": "10s=1m",
                                      "SENSORHUB_STORE_RETENTION_INTERVAL": "10s"})
    rng = random.Random(2)
    began = time.monotonic()
    next_report = began
    print(f"retention run: {a.series} series, a reading per series and second; 10 s buckets kept 1 min")
    print("| minute | file bytes | free pages | WAL bytes | 10 s chunk bytes | 1 m chunk bytes | 1 h chunk bytes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    while time.monotonic() - began < a.retention_run:
        now = time.time()
        readings = []
        for series in range(a.series):
            device, metric = name(series)
            readings.append({"device": device, "metric": metric, "value": steady(series, now, rng), "ts": round(now, 3)})
        post(port, readings)
        if time.monotonic() >= next_report:
            connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            free = connection.execute("PRAGMA freelist_count").fetchone()[0]
            data = dict(connection.execute("SELECT resolution_s, sum(length(data)) FROM chunks GROUP BY resolution_s").fetchall())
            connection.close()
            wal = os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0
            columns = " | ".join(f"{data.get(resolution, 0):,}" for resolution in (10, 60, 3600))
            print(f"| {(time.monotonic() - began) / 60:.1f} | {os.path.getsize(db):,} | {free:,} | {wal:,} | {columns} |", flush=True)
            next_report += 60
        time.sleep(max(0.0, 1 - (time.time() - now)))
    stop(proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/sensorhub"))
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--per-window", type=int, default=10, help="readings in each 10 s window (1-100)")
    parser.add_argument("--retention-run", type=float, default=0, metavar="SECONDS",
                        help="also run live readings under a short retention this long (960 shows the plateau)")
    a = parser.parse_args()
    if not 1 <= a.per_window <= 100:
        parser.error("--per-window must be 1-100")
    size_run(a, steady, "steady sensor values")
    size_run(a, uniform, "the harness's values")
    if a.retention_run > 0:
        retention_run(a)


if __name__ == "__main__":
    main()
