#!/usr/bin/env python3
"""Import rate of `sensorhub import` against two baselines, on the same files.

For NDJSON, CSV (long form) and line protocol holding the same readings (1,000 devices x
4 metrics, event times over the last 50 minutes, no seq), it measures:

  import --server   sensorhub import into a running daemon (fresh database each run)
  import --db       sensorhub import straight into a fresh database file
  curl 8 MiB        the file cut at line ends into bodies of at most 8 MiB (and 90,000
                    lines), POSTed one after another with curl to a running daemon
  python peer       the same curl bodies POSTed to the seed-style Python peer (NDJSON only:
                    the peer reads no line protocol and no CSV)

Rate = readings / seconds until every reading is acknowledged (the command or the last
POST returned) and, second figure, until a query shows all of them stored ("visible").
Also the importer's and the server's peak RSS. Prints a Markdown table.

    python3 Benchmarks/import-bench.py [--readings 2000000] [--binary PATH] [--big-mib 1024]

--big-mib N also imports an N MiB NDJSON file with --db and reports the importer's peak
RSS (the constant-memory check of CONTRACT section 6).
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "peers", "python-seed", "peer.py")
RETENTION = {"SENSORHUB_STORE_RETENTION": "10s=3650d,1m=3650d,1h=3650d"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(folder, count):
    """The same readings in three formats; returns {format: path}."""
    rng = random.Random(1)
    start = int(time.time()) - 3000
    paths = {f: os.path.join(folder, f"readings.{f}") for f in ("ndjson", "csv", "lp")}
    with open(paths["ndjson"], "w") as nd, open(paths["csv"], "w") as csv, open(paths["lp"], "w") as lp:
        csv.write("device,metric,value,ts\n")
        metrics = ["temp", "rh", "co2", "pm25"]
        for i in range(count):
            device = f"dev-{(i // 4) % 1000}"
            metric = metrics[i % 4]
            value = round(rng.uniform(-50, 150), 3)
            ts = start + (i * 3000) // count
            nd.write(f'{{"device":"{device}","metric":"{metric}","value":{value},"ts":{ts}}}\n')
            csv.write(f"{device},{metric},{value},{ts}\n")
            lp.write(f"{metric},device={device} value={value} {ts}000000000\n")
    return paths


def chunks(path, limit=8 * 1024 * 1024 - 1024, lines_limit=90_000):
    """Cuts a file at line ends into bodies of at most `limit` bytes and `lines_limit` lines."""
    body, size, lines = [], 0, 0
    with open(path, "rb") as f:
        for line in f:
            if size + len(line) > limit or lines == lines_limit:
                yield b"".join(body)
                body, size, lines = [], 0, 0
            body.append(line)
            size += len(line)
            lines += 1
    if body:
        yield b"".join(body)


class PeakRSS:
    """Samples a process's VmHWM until it exits."""

    def __init__(self, pid):
        self.pid, self.peak_kib = pid, 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except OSError:
                return
            time.sleep(0.02)

    @property
    def mib(self):
        return self.peak_kib / 1024


class Server:
    def __init__(self, command, port, env=None, log=None):
        self.port = port
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        self.rss = PeakRSS(self.process.pid)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + " ".join(command))

    def stored(self, device="*"):
        # 1m: the finest window both servers keep for readings this recent (the peer has no 1h).
        url = f"http://127.0.0.1:{self.port}/v1/aggregates?device={device}&metric=*&window=1m"
        try:
            rows = json.load(urllib.request.urlopen(url, timeout=60))
        except Exception:
            return -1
        return sum(row["count"] for row in rows)

    def wait_stored(self, count, timeout=600):
        """Polls one device (each holds 1/1000 of the readings, spread over the whole file)
        until it is complete, then checks the total once: a full query on every poll would
        load the server being measured."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.stored("dev-999") >= count // 1000:
                total = self.stored()
                if total == count:
                    return time.time()
                if total > count:
                    raise RuntimeError(f"{total} readings stored, {count} sent")
            time.sleep(0.2)
        raise RuntimeError(f"only {self.stored()} of {count} readings stored")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


def sensorhub_server(binary, folder, log):
    port = free_port()
    db = os.path.join(folder, f"server-{port}.db")
    env = dict(os.environ, SENSORHUB_MQTT_ENABLED="false", **RETENTION)
    return Server([binary, "serve", "--db", db, "--http-port", str(port)], port, env=env, log=log)


def peer_server(folder, log):
    port = free_port()
    db = os.path.join(folder, f"peer-{port}.db")
    return Server([sys.executable, PEER, "--db", db, "--http-port", str(port), "--mqtt-port", str(free_port())], port, log=log)


def post_chunks(port, path, content_type):
    for body in chunks(path):
        while True:
            result = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                     "-H", f"Content-Type: {content_type}", "--data-binary", "@-",
                                     f"http://127.0.0.1:{port}/v1/readings"], input=body, capture_output=True)
            code = result.stdout.decode()
            if code == "202":
                break
            if code in ("429", "503"):
                time.sleep(1)
                continue
            raise RuntimeError(f"POST answered {code}: {result.stderr.decode()}")


def run_import(binary, args, env=None):
    started = time.time()
    process = subprocess.Popen([binary, "import"] + args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rss = PeakRSS(process.pid)
    _, err = process.communicate()
    elapsed = time.time() - started
    if process.returncode != 0:
        raise RuntimeError(f"import failed ({process.returncode}): {err.decode()}")
    rss.thread.join(timeout=1)
    return started, elapsed, rss.mib, err.decode().strip().splitlines()[-1]


def stored_in_file(binary, db):
    out = subprocess.run([binary, "devices", "--db", db, "--format", "json"], capture_output=True, check=True).stdout
    return sum(d["readings"] for d in json.loads(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=2_000_000)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "sensorhub"))
    parser.add_argument("--big-mib", type=int, default=0)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="import-bench-")
    log = open(os.path.join(folder, "servers.log"), "w")
    rows = []
    try:
        files = generate(folder, args.readings)
        n = args.readings
        for fmt in ("ndjson", "csv", "lp"):
            size = os.path.getsize(files[fmt]) / 2**20
            server = sensorhub_server(args.binary, folder, log)
            started, elapsed, importer_rss, summary = run_import(args.binary, ["--server", f"http://127.0.0.1:{server.port}", files[fmt]])
            visible = server.wait_stored(n) - started
            server.stop()
            rows.append((fmt, f"{size:.0f} MiB", "import --server", n / elapsed, n / visible, importer_rss, server.rss.mib))

            db = os.path.join(folder, f"direct-{fmt}.db")
            started, elapsed, importer_rss, summary = run_import(args.binary, ["--db", db, files[fmt]], env=dict(os.environ, **RETENTION))
            assert stored_in_file(args.binary, db) == n, "import --db stored a different count"
            rows.append((fmt, f"{size:.0f} MiB", "import --db", n / elapsed, n / elapsed, importer_rss, None))

            if fmt in ("ndjson", "lp"):
                server = sensorhub_server(args.binary, folder, log)
                started = time.time()
                post_chunks(server.port, files[fmt], "application/x-ndjson" if fmt == "ndjson" else "text/plain")
                acked = time.time() - started
                visible = server.wait_stored(n) - started
                server.stop()
                rows.append((fmt, f"{size:.0f} MiB", "curl 8 MiB bodies", n / acked, n / visible, None, server.rss.mib))
            if fmt == "ndjson" and not args.skip_peer:
                server = peer_server(folder, log)
                started = time.time()
                post_chunks(server.port, files[fmt], "application/x-ndjson")
                acked = time.time() - started
                visible = server.wait_stored(n) - started
                server.stop()
                rows.append((fmt, f"{size:.0f} MiB", "python peer, curl 8 MiB bodies", n / acked, n / visible, None, server.rss.mib))
        print(f"\n{n:,} readings, 1,000 devices x 4 metrics, no seq; {os.cpu_count()} CPUs\n")
        print("| format | file | path | readings/s acknowledged | readings/s visible | importer peak RSS | server peak RSS |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for fmt, size, path, acked, visible, importer, server_rss in rows:
            cell = lambda v: f"{v:.0f} MiB" if v else "-"
            print(f"| {fmt} | {size} | {path} | {acked:,.0f} | {visible:,.0f} | {cell(importer)} | {cell(server_rss)} |")
        if args.big_mib:
            big = os.path.join(folder, "big.ndjson")
            start = int(time.time()) - 3000
            pad = "x" * 90
            written, count = 0, 0
            with open(big, "w") as f:
                while written < args.big_mib << 20:
                    block = "".join(
                        f'{{"device":"site-{i % 50}-{pad}","metric":"metric-{i % 20}-{pad}","value":{i % 1000},"ts":{start + (i // 1000) % 3000}}}\n'
                        for i in range(count, count + 10_000))
                    f.write(block)
                    written += len(block)
                    count += 10_000
            db = os.path.join(folder, "big.db")
            _, elapsed, rss, summary = run_import(args.binary, ["--db", db, big], env=dict(os.environ, **RETENTION))
            print(f"\nbig file: {written / 2**20:.0f} MiB NDJSON, {count:,} readings, import --db in {elapsed:.1f} s "
                  f"({count / elapsed:,.0f} readings/s, {written / 2**20 / elapsed:.0f} MiB/s), importer peak RSS {rss:.0f} MiB")
    finally:
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
