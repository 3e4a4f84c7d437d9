#!/usr/bin/env python3
"""CPU per pipeline stage from a `perf record -g` profile of the daemon.

    perf record -e cpu-clock -F 2000 -g -p <daemon pid> -o perf.data   (while a load runs)
    scripts/perf-stages.py perf.data

Each sample is charged to the innermost stage whose function is on its stack (so the
journal write inside ingress staging counts as journal, not as staging); samples on no
stage's path are "other" (runtime threads, idle spinning, the metrics endpoint, ...).
"""
import collections
import subprocess
import sys

# (stage, substrings of Swift-mangled or C symbols), innermost first.
STAGES = [
    ("sqlite (inside the store write)", ("sqlite3",)),
    ("postgres-nio (wire protocol, TLS-free sockets)", ("PostgresNIO",)),
    ("chunk encode/merge (store write)", ("ChunkUpdate",)),
    ("seq admission at flush (PostgreSQL)", ("SequencedAdmission",)),
    ("store write, rest (PostgreSQL)", ("PostgresBatchWriter",)),
    ("store write, rest (ids, grouping, GRDB)", ("BatchWriter",)),
    ("flush: drain + batch build", ("Flusher",)),
    ("journal append (encode, CRC, write)", ("JournalWriter",)),
    ("ingress staging (seq dedupe)", ("ShardIngress",)),
    ("series registry (limits)", ("SeriesRegistry",)),
    ("decode", ("ReadingDecoder",)),
    ("ingest entry, rest", ("IngestEntry",)),
    ("aggregate (pending buckets)", ("ShardAggregator",)),
    ("live feed", ("LiveFeed",)),
    ("HTTP (Hummingbird, NIOHTTP1, llhttp)", ("Hummingbird", "NIOHTTP1", "llhttp")),
    ("MQTT client (libmosquitto)", ("mosquitto",)),
    # Swift concurrency's tasks run on NIO's event loops (SensorHubCommand.main), so a task's
    # frames end in the loop's: what no stage above claims, socket I/O included, lands here.
    ("event loops, rest (socket I/O, task scheduling)", ("NIO",)),
]


def main(path: str) -> None:
    script = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"], capture_output=True, text=True, check=True).stdout
    totals = collections.Counter()
    samples = 0
    stack: list[str] = []

    def charge() -> None:
        nonlocal samples
        if not stack:
            return
        samples += 1
        for frame in stack:  # innermost first
            for stage, markers in STAGES:
                if any(marker in frame for marker in markers):
                    totals[stage] += 1
                    return
        totals["kernel" if "[kernel" in stack[0] else "other"] += 1

    for line in script.splitlines():
        if not line.strip():
            charge()
            stack = []
        else:
            stack.append(line.strip())
    charge()
    print(f"{samples} samples")
    for stage, count in totals.most_common():
        print(f"{100 * count / samples:5.1f}%  {stage}")


if __name__ == "__main__":
    main(sys.argv[1])
