#!/usr/bin/env python3
"""One markdown table from the shared harness's JSON outputs (Benchmarks/storage-shapes.sh).

    python3 Benchmarks/shapes-table.py OUT/default.json OUT/span20.json ...

Per shape and workload: the ceiling, each server's readings/s (and × the peer), its CPU
seconds and µs per reading up to the answer that saw every reading, its peak RSS up to
then, the same two up to the end of that full query (for a server that answers before it
flushes, the flush after the burst runs meanwhile, and may end after it), and whether the
harness's correctness check of the 1m rows passed.
"""
import json
import os
import statistics
import sys
from collections import defaultdict

WORKLOADS = {"mqtt-single": "W1", "mqtt-batch": "W2", "http-batch": "W3"}


def main(paths: list[str]) -> None:
    print("| shape | workload | server | readings/s | × peer | × ceiling | server CPU | µs CPU / reading | peak RSS | CPU, with the full query | peak RSS, with the full query | correct |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        shape = os.path.splitext(os.path.basename(path))[0]
        data = json.load(open(path))
        runs = defaultdict(list)
        for result in data["results"]:
            runs[(result["workload"], result["server"])].append(result)
        for workload in WORKLOADS:
            servers = [server for (w, server) in runs if w == workload]
            if not servers:
                continue

            def median(server: str, key: str):
                values = [r[key] for r in runs[(workload, server)] if r.get(key) is not None]
                return statistics.median(values) if values else None

            ceiling = median("ceiling", "readings_per_s") if "ceiling" in servers else None
            peer = median("peer", "readings_per_s") if "peer" in servers else None
            for server in sorted(servers, key=lambda s: (s != "ceiling", s != "peer", s)):
                rate = median(server, "readings_per_s")
                if rate is None:
                    statuses = ", ".join(sorted({r.get("status", "?") for r in runs[(workload, server)]}))
                    print(f"| {shape} | {WORKLOADS[workload]} | {server} | {statuses} | | | | | | | | no |")
                    continue
                if server == "ceiling":
                    print(f"| {shape} | {WORKLOADS[workload]} | ceiling | {rate:,.0f} | | | | | | | | |")
                    continue
                readings = runs[(workload, server)][0]["readings"]
                cpu = median(server, "server_cpu_s")
                rss = median(server, "rss_peak_mib")
                total = median(server, "server_cpu_total_s")
                rss_query = median(server, "rss_peak_with_query_mib")
                whole = f" {total:.2f} s |" if total is not None else " |"
                whole += f" {rss_query:.0f} MiB |" if rss_query is not None else " |"
                checks = [r.get("correctness") for r in runs[(workload, server)]]
                correct = "yes" if all(c and c.get("ok", c.get("passed")) for c in checks) else f"{checks}"[:60]
                print(
                    f"| {shape} | {WORKLOADS[workload]} | {server} | {rate:,.0f} "
                    f"| {rate / peer:.1f} |" if peer and server != "peer" else f"| {shape} | {WORKLOADS[workload]} | {server} | {rate:,.0f} | |",
                    end="",
                )
                print(
                    f" {rate / ceiling:.2f} |" if ceiling else " |",
                    f" {cpu:.2f} s | {1e6 * cpu / readings:.1f} | {rss:.0f} MiB |{whole} {correct} |" if cpu is not None else " | | | | | |",
                    sep="",
                )


if __name__ == "__main__":
    main(sys.argv[1:])
