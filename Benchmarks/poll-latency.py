#!/usr/bin/env python3
"""How long the harness's progress polls take while a load runs, and (with --perf) where the
daemon's CPU goes: starts mosquitto and the daemon on private ports, runs the shared
harness's load generator (W3 over HTTP, or W2 over MQTT) and polls the last device's 1 m
rows every 0.1 s as ../shared/bench/run.py does, printing each poll's time and count.

    python3 Benchmarks/poll-latency.py .build/release/sensorhub [http|mqtt] [--perf FILE]

--perf FILE records the daemon with `perf record -F 4000 -g` during the load (read it with
`perf report -i FILE --no-children --sort dso,sym -g none`).
"""
import json, os, signal, subprocess, sys, tempfile, time, urllib.parse, urllib.request

LOADGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "loadgen")
MQTT_PORT, HTTP_PORT = 18995, 18994


def main():
    binary = sys.argv[1]
    workload = sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else "http"
    perf_out = sys.argv[sys.argv.index("--perf") + 1] if "--perf" in sys.argv else None
    folder = tempfile.mkdtemp()
    broker = subprocess.Popen(["mosquitto", "-p", str(MQTT_PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    daemon = subprocess.Popen([binary, "serve", "--db", folder + "/sensorhub.db", "--mqtt-url", f"mqtt://127.0.0.1:{MQTT_PORT}",
                               "--http-port", str(HTTP_PORT)], stdout=open(folder + "/log", "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{HTTP_PORT}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz").read()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(1)  # the MQTT subscription
    start = int(time.time()) // 60 * 60 - 600
    shape = ["--devices", "1000", "--metrics", "4", "--count", "400000", "--start", str(start), "--span-s", "600", "--seed", "1"]
    readings = [json.loads(line) for line in subprocess.run([LOADGEN, "dump"] + shape, capture_output=True, text=True).stdout.splitlines()]
    last = readings[-1]["device"]
    expected = sum(1 for r in readings if r["device"] == last)
    path = "/v1/aggregates?" + urllib.parse.urlencode({"device": last, "metric": "*", "window": "1m"})
    if workload == "http":
        load = [LOADGEN, "http", "--port", str(HTTP_PORT), "--batch", "100", "--conns", "16"] + shape
    else:
        load = [LOADGEN, "mqtt", "--port", str(MQTT_PORT), "--qos", "1", "--payload", "batch", "--batch", "100",
                "--batch-topic", "sensors/gw/1/batch"] + shape
    perf = None
    if perf_out:
        perf = subprocess.Popen(["perf", "record", "-F", "4000", "-g", "-o", perf_out, "-p", str(daemon.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    t0 = time.monotonic()
    loadgen = subprocess.Popen(load, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while True:
        asked = time.monotonic()
        count = sum(r["count"] for r in json.loads(urllib.request.urlopen(base + path).read()))
        took = time.monotonic() - asked
        state = "done" if loadgen.poll() is not None else "running"
        print(f"poll at {asked - t0:.3f} s took {1000 * took:.1f} ms: {count}/{expected} readings, load {state}")
        if count >= expected:
            break
        time.sleep(0.1)
    print("load generator:", loadgen.communicate()[0].strip())
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    daemon.terminate()
    daemon.wait()
    broker.terminate()


if __name__ == "__main__":
    main()
