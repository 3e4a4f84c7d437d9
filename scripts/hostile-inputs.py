#!/usr/bin/env python3
"""Sends the hostile inputs of CONTRACT §4 to a real daemon and reports, for each, what it
answered, whether readings of other series were still stored afterwards, and the daemon's
resident memory. Run it against two builds to compare them:

    scripts/hostile-inputs.py --binary .build/release/sensorhub [--binary /other/build/sensorhub]

Each scenario gets a fresh daemon (HTTP only, a temporary database). "stored" is whether a
control reading of another series, sent after the hostile input, was counted within 10 s.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, binary, environment=None):
        self.binary = binary
        self.folder = tempfile.mkdtemp(prefix="hostile-")
        self.port = free_port()
        env = dict(os.environ, SENSORHUB_MQTT_ENABLED="false", **(environment or {}))
        self.process = subprocess.Popen(
            [binary, "serve", "--db", f"{self.folder}/db.sqlite", "--http-port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("daemon exited at start")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:  # not listening yet, or 503 while the journal is replayed
                time.sleep(0.05)
        raise RuntimeError("daemon did not start")

    def request(self, method, path, body=None, content_type="application/json", timeout=30):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", content_type)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read(), time.monotonic() - started
        except OSError as error:
            return None, str(error).encode(), time.monotonic() - started

    def post(self, readings):
        return self.request("POST", "/v1/readings", json.dumps(readings).encode())

    def rss_mib(self):
        try:
            for line in open(f"/proc/{self.process.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        except OSError:
            return None

    def alive(self):
        return self.process.poll() is None

    def stored(self, device, expected=1, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body, _ = self.request("GET", f"/v1/aggregates?device={device}&window=1d", timeout=5)
            if status == 200 and sum(row["count"] for row in json.loads(body)) >= expected:
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


NOW = int(time.time())


def reading(device, value, ts=None, seq=None, metric="m"):
    item = {"device": device, "metric": metric, "value": value, "ts": ts if ts is not None else NOW - 60}
    if seq is not None:
        item["seq"] = seq
    return item


def describe(status, body):
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and "accepted" in parsed:
            detail = f"accepted {parsed['accepted']}, duplicates {parsed['duplicates']}"
        elif isinstance(parsed, dict):
            detail = parsed.get("reason") or parsed.get("error", "")
        else:
            detail = f"{len(parsed)} rows"
    except (ValueError, AttributeError):
        detail = body[:60].decode(errors="replace")
    return f"{status} {detail}".strip()


def control(daemon, name, expected=1):
    """A reading of another series after the hostile input: is it stored?"""
    status, _, _ = daemon.post([reading(f"control-{name}", 1)])
    return status == 202 and daemon.stored(f"control-{name}", expected)


def poison(daemon):
    status, body, _ = daemon.post([reading("p", 1.7e308), reading("p", -1.7e308), reading("p", 0)])
    stored = control(daemon, "poison")
    health = daemon.request("GET", "/healthz")[0]
    return describe(status, body), stored, f"healthz {health}"


def infinite_sum(daemon):
    status, body, _ = daemon.post([reading("inf", 1e308), reading("inf", 1e308)])
    stored = control(daemon, "inf")
    query = subprocess.run([daemon.binary, "query", "--server", f"http://127.0.0.1:{daemon.port}", "--window", "1m"],
                           capture_output=True, text=True, timeout=30)
    return describe(status, body), stored, f"query exit {query.returncode}"


def amplified_line_protocol(daemon):
    fields = ",".join(f"f{i}=1" for i in range(600_000))
    body = f"m,device=amp {fields} {(NOW - 60) * 1_000_000_000}".encode()[: 8 << 20]
    body = body[: body.rfind(b",")] + f" {(NOW - 60) * 1_000_000_000}".encode()
    status, answer, _ = daemon.request("POST", "/v1/readings", body, "text/plain", timeout=120)
    stored = control(daemon, "amp")
    return describe(status, answer), stored, f"{len(body) >> 20} MiB body"


def series_flood(daemon):
    daemon.post([reading("control-flood", 1)])  # a series held before the flood
    before = daemon.rss_mib()
    statuses = set()
    for round_ in range(200):
        status, body, _ = daemon.post([reading(f"flood-{round_}-{i}", 1) for i in range(1000)])
        statuses.add(describe(status, body))
    stored = control(daemon, "flood", expected=2)
    return ", ".join(sorted(statuses)), stored, f"RSS {before} -> {daemon.rss_mib()} MiB for 200,000 new series"


def huge_query(daemon):
    daemon.post([reading("q", 1)])
    daemon.stored("q")
    before = daemon.rss_mib()
    status, body, seconds = daemon.request("GET", "/v1/aggregates?window=3650d&step=10s", timeout=60)
    stored = control(daemon, "query")
    return describe(status, body), stored, f"{seconds:.1f} s, RSS {before} -> {daemon.rss_mib()} MiB"


def absurd_seq(daemon):
    daemon.post([reading("s", 1, seq=2**64 - 1, ts=NOW - 120)])
    status, body, _ = daemon.post([reading("s", 1, seq=5, ts=NOW - 60)])
    return describe(status, body), control(daemon, "seq"), "seq 5 after 2^64-1, later"


def restarted_sequence(daemon):
    daemon.post([reading("r", 1, seq=s, ts=NOW - 3000 + s) for s in range(1, 2001)])
    status, body, _ = daemon.post([reading("r", 1, seq=1, ts=NOW - 60)])
    return describe(status, body), control(daemon, "restart"), "seq 1 after 2000, later"


def idle_connection(daemon):
    connection = socket.create_connection(("127.0.0.1", daemon.port))
    connection.settimeout(30)
    started = time.monotonic()
    try:
        closed = connection.recv(1) == b""
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    seconds = time.monotonic() - started
    return ("closed" if closed else "open") + f" after {seconds:.0f} s", control(daemon, "idle"), "no byte sent"


SCENARIOS = [
    ("1.7e308, -1.7e308, 0", poison, {}),
    ("1e308 + 1e308", infinite_sum, {}),
    ("8 MiB line of fields", amplified_line_protocol, {}),
    ("200,000 new series", series_flood, {"SENSORHUB_LIMITS_MAX_SERIES": "10000"}),
    ("window=3650d&step=10s", huge_query, {}),
    ("seq 2^64-1", absurd_seq, {}),
    ("sequence restart", restarted_sequence, {}),
    ("idle connection", idle_connection, {"SENSORHUB_HTTP_IDLE_TIMEOUT": "5s"}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", required=True)
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    for binary in args.binary:
        print(f"## {binary}")
        print("| input | answer | other series stored | notes |")
        print("| --- | --- | --- | --- |")
        for name, scenario, environment in SCENARIOS:
            if args.only and args.only not in name:
                continue
            try:
                daemon = Daemon(binary, environment)
            except RuntimeError:
                daemon = Daemon(binary)  # an older build refuses settings it does not know
            try:
                answer, stored, notes = scenario(daemon)
                if not daemon.alive():
                    notes += "; the daemon died"
            except Exception as error:  # a scenario that broke the daemon or the client
                answer, stored, notes = f"error: {error}", False, ""
            finally:
                daemon.stop()
            print(f"| {name} | {answer} | {'yes' if stored else 'no'} | {notes} |", flush=True)


if __name__ == "__main__":
    main()
