#!/usr/bin/env python3
"""Does the key order of the buckets table decide what a steady-state flush costs?

Plain sqlite3 (no SensorHub code), WAL + synchronous=NORMAL as SensorStore opens it:
  A: PRIMARY KEY (series_id, resolution_s, start_us) WITHOUT ROWID       (schema v1)
  B: PRIMARY KEY (resolution_s, start_us, series_id) WITHOUT ROWID
     + INDEX (series_id, resolution_s, start_us)                          (time-major)
Each variant is loaded with one hour of history the way a daemon writes it (every 10 s,
the new window of all 4000 series, plus 1m and 1h windows at their boundaries). Then it
times 20 flushes of 12,000 UPDATEs of the open buckets (4000 series × 10s/1m/1h) in one
transaction, and counts the WAL pages each flush appends.

    python3 experiments/bucket-key-order.py A B        # ~2 min on 2 cores, ~400 MB in a temp dir

Measured 2026-11-26, 2 cores (two runs): A 195–207 ms and 8157 pages per flush, B 50–52 ms
and 310 pages.
"""
import os
import sqlite3
import sys
import tempfile
import time

COLS = ("count INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, "
        "mean REAL NOT NULL, m2 REAL NOT NULL, first_ts_us INTEGER NOT NULL, first REAL NOT NULL, "
        "last_ts_us INTEGER NOT NULL, last REAL NOT NULL")
SERIES, T0 = 4000, 1764165600 * 10**6
RES = [10, 60, 3600]
INSERT = "INSERT INTO buckets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
UPDATE = "UPDATE buckets SET count = count + 1, sum = sum + ?, last = ? WHERE series_id = ? AND resolution_s = ? AND start_us = ?"


def create(path, variant):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    key = "series_id, resolution_s, start_us" if variant == "A" else "resolution_s, start_us, series_id"
    db.execute(f"CREATE TABLE buckets (series_id INTEGER NOT NULL, resolution_s INTEGER NOT NULL, "
               f"start_us INTEGER NOT NULL, {COLS}, PRIMARY KEY ({key})) WITHOUT ROWID")
    if variant == "B":
        db.execute("CREATE INDEX buckets_by_series ON buckets (series_id, resolution_s, start_us)")
    return db


def row(series, resolution, start):
    return (series, resolution, start, 1, 1.5, 1.5, 1.5, 1.5, 0.0, start, 1.5, start, 1.5)


def load_history(db):
    for step in range(361):  # 360 past 10 s windows, then the open one at T0
        start = T0 - 3600 * 10**6 + step * 10 * 10**6
        db.execute("BEGIN")
        db.executemany(INSERT, (row(s, 10, start) for s in range(1, SERIES + 1)))
        if start % (60 * 10**6) == 0:
            db.executemany(INSERT, (row(s, 60, start) for s in range(1, SERIES + 1)))
        if start % (3600 * 10**6) == 0:
            db.executemany(INSERT, (row(s, 3600, start) for s in range(1, SERIES + 1)))
        db.execute("COMMIT")


def main(variants):
    with tempfile.TemporaryDirectory(prefix="bucket-key-order-") as folder:
        for variant in variants:
            path = os.path.join(folder, f"{variant}.db")
            db = create(path, variant)
            started = time.time()
            load_history(db)
            loading = time.time() - started
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            times, pages = [], []
            for _ in range(20):
                started = time.perf_counter()
                db.execute("BEGIN")
                db.executemany(UPDATE, ((0.5, 0.5, s, r, T0) for s in range(1, SERIES + 1) for r in RES))
                db.execute("COMMIT")
                times.append(time.perf_counter() - started)
                # The commit checkpointed (WAL > 1000 pages) but the WAL still holds this
                # transaction's frames until the next write: column 2 counts them.
                pages.append(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
            times.sort()
            pages.sort()
            print(f"{variant}: history loaded in {loading:.1f} s, database {os.path.getsize(path) >> 20} MiB; "
                  f"12k-UPDATE flush: median {1000 * times[len(times) // 2]:.0f} ms (min {1000 * times[0]:.0f} ms), "
                  f"{pages[len(pages) // 2]} WAL pages per flush")
            db.close()


if __name__ == "__main__":
    main(sys.argv[1:] or ["A", "B"])
