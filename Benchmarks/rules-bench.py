#!/usr/bin/env python3
"""What rules cost ingest: the same live load with and without rules (CONTRACT section 7).

`sensorhub simulate --transport http` sends readings of 2,500 devices x 4 metrics (10,000
series) stamped with the current time, as fast as the daemon acknowledges them, for
--duration seconds, to a fresh daemon (HTTP only, SQLite in a temp folder) that runs
either no rules or three rules over every series:

  hot      mean > 100 over 10 s windows
  spiky    p99 >= 149 over 10 s windows, 3 in a row
  silent   no reading for 30 s (last-seen times read every 3 s)

With live event times the 10 s windows close during the run, so every closed window of
every series is judged while ingest runs. Reported per run: the acknowledged rate (the
simulator's summary), the daemon's CPU seconds per million readings, the transitions,
the evaluations (one after every flush) and their mean duration. Prints a Markdown table;
the last line compares the median rates.

    python3 Benchmarks/rules-bench.py [--binary PATH] [--duration 40] [--reps 2]
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = """
rules:
  - {name: hot, metric: "*", resolution: 10s, stat: mean, op: ">", threshold: 100}
  - {name: spiky, metric: "*", resolution: 10s, stat: p99, op: ">=", threshold: 149, for: 3}
  - {name: silent, metric: "*", absent: 30s}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_sum(text, name):
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def run(binary, with_rules, duration, folder):
    config = os.path.join(folder, "sensorhub.yaml")
    with open(config, "w") as f:
        f.write("mqtt: {enabled: false}\nalerts: {lateness: 1s}\n" + (RULES if with_rules else ""))
    port = free_port()
    log = open(os.path.join(folder, "daemon.log"), "w")
    daemon = subprocess.Popen([binary, "serve", "--config", config, "--db", os.path.join(folder, "bench.db"),
                               "--http-port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if urllib.request.urlopen(url + "/healthz", timeout=1).status == 200:
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit("daemon did not start: see " + log.name)
        time.sleep(0.1)
    before = cpu_seconds(daemon.pid)
    sim = subprocess.run([binary, "simulate", "--transport", "http", "--server", url, "--devices", "2500",
                          "--metrics", "4", "--batch", "100", "--duration", f"{duration}s"],
                         capture_output=True, text=True, check=True)
    cpu = cpu_seconds(daemon.pid) - before
    metrics = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=120)
    summary = (sim.stdout + sim.stderr).strip().splitlines()[-1]
    readings = int(re.search(r"acknowledged=(\d+)|readings=(\d+)", summary).group(0).split("=")[1])
    rate = int(re.search(r"rate=(\d+)", summary).group(1))
    return {
        "rules": with_rules, "rate": rate, "readings": readings, "cpu_per_million": cpu / readings * 1e6,
        "transitions": int(metric_sum(metrics, "sensorhub_alert_transitions_total")),
        "failures": int(metric_sum(metrics, "sensorhub_rule_evaluation_failures_total")),
        "evaluations": int(metric_sum(metrics, "sensorhub_rule_evaluation_seconds_count")),
        "evaluation_ms": 1000 * metric_sum(metrics, "sensorhub_rule_evaluation_seconds_sum")
        / max(1, metric_sum(metrics, "sensorhub_rule_evaluation_seconds_count")),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "sensorhub"))
    parser.add_argument("--duration", type=int, default=40)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    results = []
    for rep in range(args.reps):
        for with_rules in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                result = run(args.binary, with_rules, args.duration, folder)
                results.append(result)
                print(f"rep {rep + 1} rules={'3' if with_rules else '0'}: {result}", flush=True)
    print("\n| rules | readings/s | daemon CPU s per million | transitions | evaluations | mean evaluation ms | evaluation failures |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {'3 x 10,000 series' if r['rules'] else 'none'} | {r['rate']:,} | {r['cpu_per_million']:.2f} | {r['transitions']:,} "
              f"| {r['evaluations']} | {r['evaluation_ms']:.1f} | {r['failures']} |")
    plain = statistics.median(r["rate"] for r in results if not r["rules"])
    ruled = statistics.median(r["rate"] for r in results if r["rules"])
    print(f"\nmedian rate with rules / without: {ruled / plain:.3f}")


if __name__ == "__main__":
    main()
