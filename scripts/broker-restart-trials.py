#!/usr/bin/env python3
"""Broker restarts in the middle of a QoS 1 stream, N times: does SensorHub count every
reading the broker acknowledged, exactly once?

Each trial starts a real mosquitto (deploy/mosquitto.conf on a free port, its own
persistence folder), the daemon, an independent observer (mosquitto_sub with a persistent
session on the same topics) and `sensorhub simulate` (6,000 readings at 2,000/s with seq).
One second in, the broker is stopped (SIGTERM: it saves its state) or killed (--kill,
SIGKILL: it keeps only what its last autosave wrote), and started again 0.5 s later.
With --backlog the daemon is slowed down (tiny queues, a delayed flusher, 1,000 series),
so the broker holds a backlog for it when it goes down.

Per trial it prints what the simulator got acknowledged, what the daemon took from the
broker (its ingest counter), what it stored (its queries), the duplicates it dropped and
what the observer received. Readings taken but not stored were lost by the daemon;
readings acknowledged to the simulator but never taken by the daemon were lost by the
broker (only possible with --kill). Exit 1 when the daemon lost or double-counted any
reading, or (without --kill) when any acknowledged reading is missing.

    scripts/broker-restart-trials.py --trials 50 [--kill] [--backlog] [--binary .build/release/sensorhub]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT, RATE = 6000, 2000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Broker:
    def __init__(self, folder):
        self.port = free_port()
        self.config = os.path.join(folder, "mosquitto.conf")
        with open(os.path.join(ROOT, "deploy/mosquitto.conf")) as shipped:
            kept = [line for line in shipped if not line.startswith(("listener", "persistence_location"))]
        with open(self.config, "w") as out:
            out.writelines(kept)
            out.write(f"\nlistener {self.port} 127.0.0.1\npersistence_location {folder}/\nuser root\n")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["mosquitto", "-c", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: accepts(self.port), 10):
            raise RuntimeError("mosquitto did not listen")

    def stop(self, kill):
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.wait(timeout=15)


def daemon_totals(http):
    """(device/metric → readings stored, readings taken from MQTT, duplicates dropped) from
    the daemon's HTTP API: what its queries answer and what its counters say it took."""
    counts = Counter()
    url = f"http://127.0.0.1:{http}/v1/aggregates?device=*&metric=*&window=1d"
    for row in json.load(urllib.request.urlopen(url, timeout=10)):
        counts[f"{row['device']}/{row['metric']}"] += row["count"]
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10).read().decode()

    def sample(prefix):
        return int(sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix)))
    taken = sample('sensorhub_readings_ingested_total{transport="mqtt"')
    return counts, taken, sample("sensorhub_readings_duplicate_total")


def mqtt_connected(http):
    try:
        health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=2))
        return health.get("mqtt") == "connected"
    except OSError:
        return False


def trial(binary, kill, backlog, number):
    folder = tempfile.mkdtemp(prefix="broker-trial-")
    broker = Broker(folder)
    broker.start()
    observed_path = os.path.join(folder, "observed.txt")
    observer = subprocess.Popen(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-c", "-i", f"observer-{number}",
         "-t", "sensors/#", "-v"], stdout=open(observed_path, "w"), stderr=subprocess.DEVNULL)
    http = free_port()
    environment = dict(os.environ, SENSORHUB_MQTT_RECONNECT_MIN="50ms", SENSORHUB_MQTT_RECONNECT_MAX="200ms")
    slowed = []
    devices = 10
    if backlog:
        environment.update(SENSORHUB_PIPELINE_QUEUE_CAPACITY="16", SENSORHUB_PIPELINE_MAX_PENDING_BUCKETS="1000")
        slowed = ["--testing-flush-delay", "500"]
        devices = 500
    daemon = subprocess.Popen(
        [binary, "serve", "--db", os.path.join(folder, "sensorhub.db"), "--mqtt-url", f"mqtt://127.0.0.1:{broker.port}",
         "--http-port", str(http)] + slowed, env=environment, stdout=open(os.path.join(folder, "daemon.log"), "w"),
        stderr=subprocess.STDOUT)
    try:
        if not wait_for(lambda: mqtt_connected(http), 30):
            raise RuntimeError(f"daemon never connected; see {folder}/daemon.log")
        simulator = subprocess.Popen(
            [binary, "simulate", "--mqtt-url", f"mqtt://127.0.0.1:{broker.port}", "--devices", str(devices),
             "--metrics", "2", "--count", str(COUNT), "--rate", str(RATE), "--qos", "1", "--seed", str(number),
             "--seq"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1)
        broker.stop(kill)
        time.sleep(0.5)
        broker.start()
        summary = simulator.communicate(timeout=180)[0].strip().splitlines()[-1]
        acknowledged = int(summary.split("acknowledged=")[1].split()[0])
        # Wait until the daemon's count stops growing (it may only reach what the broker kept).
        last, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            counts, taken, duplicates = daemon_totals(http)
            total = sum(counts.values())
            if total != last:
                last, stable_since = total, time.monotonic()
            if total >= acknowledged or time.monotonic() - stable_since > 5:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # let the observer take what the broker still sends it
        counts, taken, duplicates = daemon_totals(http)
    finally:
        for process in (daemon, observer):
            process.terminate()
        for process in (daemon, observer):
            process.wait(timeout=20)
        broker.stop(False)

    observed = defaultdict(set)
    for line in open(observed_path):
        topic, _, payload = line.rstrip("\n").partition(" ")
        try:
            observed[topic.removeprefix("sensors/")].add(json.loads(payload)["seq"])
        except (ValueError, KeyError):
            pass
    daemon_total = sum(counts.values())
    shutil.rmtree(folder, ignore_errors=True)
    # The daemon's own invariant: every reading it took from the broker (and acknowledged)
    # is stored once. Readings acknowledged to the simulator that never reached the daemon
    # were lost by the broker.
    return dict(acknowledged=acknowledged, taken=taken, counted=daemon_total, duplicates=duplicates,
                observed=sum(len(s) for s in observed.values()),
                broker_lost=max(0, acknowledged - taken), daemon_lost=abs(taken - daemon_total))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--kill", action="store_true", help="SIGKILL the broker instead of SIGTERM")
    parser.add_argument("--backlog", action="store_true", help="slow the daemon so the broker holds a backlog")
    default_binary = os.path.join(ROOT, ".build/release/sensorhub")
    if not os.path.exists(default_binary):
        default_binary = os.path.join(ROOT, ".build/debug/sensorhub")
    parser.add_argument("--binary", default=default_binary)
    args = parser.parse_args()
    results = []
    for number in range(1, args.trials + 1):
        result = trial(args.binary, args.kill, args.backlog, number)
        results.append(result)
        print(f"trial {number:3}: acknowledged={result['acknowledged']} taken={result['taken']} counted={result['counted']} "
              f"duplicates={result['duplicates']} observed={result['observed']} "
              f"lost_by_broker={result['broker_lost']} lost_by_daemon={result['daemon_lost']}", flush=True)
    short = [r for r in results if r["counted"] < COUNT]
    daemon_lost = sum(r["daemon_lost"] for r in results)
    print(f"{'SIGKILL' if args.kill else 'SIGTERM'}{' with a backlog' if args.backlog else ''}: {len(results)} trials, {len(short)} with readings missing "
          f"({sum(COUNT - r['counted'] for r in short)} readings), lost by the broker "
          f"{sum(r['broker_lost'] for r in results)}, lost by the daemon {daemon_lost}, "
          f"counted twice {sum(max(0, r['counted'] - COUNT) for r in results)}")
    failed = daemon_lost > 0 or any(r["counted"] > COUNT for r in results) or (not args.kill and bool(short))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
