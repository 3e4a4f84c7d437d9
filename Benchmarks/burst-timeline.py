#!/usr/bin/env python3
"""Where a burst's time goes: the shared harness's W2/W3 runs, with the daemon's /metrics
read every 5 ms while they run.

For each run it prints, in seconds from the load generator's start:

  loadgen done   the load generator's own elapsed time (every reading acknowledged)
  ingested       the first look at which sensorhub_readings_ingested_total held every reading
  flush began    the first flush's commit minus its duration (sensorhub_flush_duration_seconds)
  flush done     the first look after the commit of the flush that took the last readings
  harness saw    the harness's end (the start of the query that saw every reading)

and the flush's duration. The harness polls about every 105 ms, so its end falls on steps
(0.41, 0.52, 0.63 s): the gap between "flush done" and "harness saw" is that poll.

    python3 Benchmarks/burst-timeline.py [--binary .build/release/sensorhub] [--workloads w2,w3] [--reps 2] [run.py options]

Options it does not know go to ../shared/bench/run.py (e.g. --span 20, --count 4000000).
The polling costs the daemon a little CPU: take rates and CPU from run.py alone.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT.parent / "shared" / "bench" / "run.py"
SAMPLE = re.compile(r"^(sensorhub_readings_ingested_total|sensorhub_flush_duration_seconds_(?:sum|count))(?:\{[^}]*\})? (\S+)$", re.M)


def poll(port, samples, stop):
    """Appends (wall time, ingested, flushes, flush seconds) every 5 ms until stopped."""
    while not stop.is_set():
        t = time.time()
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=0.5).read().decode()
        except OSError:
            time.sleep(0.005)
            continue
        values = {"sensorhub_readings_ingested_total": 0.0}
        for name, value in SAMPLE.findall(body):
            values[name] = values.get(name, 0.0) + float(value) if name == "sensorhub_readings_ingested_total" else float(value)
        samples.append((t, values["sensorhub_readings_ingested_total"],
                        values.get("sensorhub_flush_duration_seconds_count", 0.0),
                        values.get("sensorhub_flush_duration_seconds_sum", 0.0)))
        time.sleep(0.005)


def timeline(result, samples):
    """The row of one harness run, from the samples taken while it ran."""
    rundir = Path(result["rundir"])
    loadgen = next(json.loads(line) for line in (rundir / "loadgen.out").read_text().splitlines() if line.startswith("{"))
    t0, count = loadgen["t_start"], result["readings"]
    seen = [s for s in samples if t0 - 1 <= s[0] <= t0 + result["elapsed_s"] + 1]
    ingested = next((s for s in seen if s[1] >= count), None)
    row = {"workload": result["workload"], "rep": result["rep"], "loadgen done": loadgen.get("elapsed"),
           "harness saw": result["elapsed_s"]}
    if ingested:
        row["ingested"] = ingested[0] - t0
        # The flush that took the last readings is the first to commit after they were in.
        before = next((s for s in reversed(seen) if s[0] < ingested[0]), ingested)
        done = next((s for s in seen if s[0] >= ingested[0] and s[2] > before[2]), None)
        if done:
            previous = max((s for s in seen if s[2] < done[2]), key=lambda s: s[0], default=before)
            duration = done[3] - previous[3]
            row.update({"flush done": done[0] - t0, "flush s": duration, "flush began": done[0] - t0 - duration})
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(ROOT / ".build/release/sensorhub"))
    parser.add_argument("--workloads", default="w2,w3")
    parser.add_argument("--reps", default="2")
    parser.add_argument("--http-port", default="18081")
    args, rest = parser.parse_known_args()
    samples, stop = [], threading.Event()
    poller = threading.Thread(target=poll, args=(args.http_port, samples, stop), daemon=True)
    poller.start()
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "results.json"
        subprocess.run([sys.executable, str(HARNESS), "--ceiling", "no", "--workloads", args.workloads, "--reps", args.reps,
                        "--http-port", args.http_port, "--workdir", str(Path(work) / "runs"), "--out", str(out),
                        "--server", f"sensorhub={args.binary} serve --db {{db}} --mqtt-url {{mqtt_url}} --http-port {{http}}"] + rest,
                       check=True, stdout=subprocess.DEVNULL)
        stop.set()
        poller.join()
        rows = [timeline(r, samples) for r in json.loads(out.read_text())["results"]]
    columns = ["loadgen done", "ingested", "flush began", "flush done", "harness saw", "flush s"]
    print("| workload | rep | " + " | ".join(columns) + " |")
    print("| --- | --- |" + " --- |" * len(columns))
    for row in rows:
        cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else "" for c in columns]
        print(f"| {row['workload']} | {row['rep']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
