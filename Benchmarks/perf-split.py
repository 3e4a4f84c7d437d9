#!/usr/bin/env python3
"""Splits a thread's perf samples by pipeline stage: each sample goes to the first stage
(in the order given) whose pattern matches a frame of its call stack, else to `other`.

    perf record -F 4000 -g -p <daemon pid> -o run.data        # while the load runs
    perf script -i run.data -F comm,time,ip,sym > run.txt
    python3 Benchmarks/perf-split.py run.txt --thread sensorhub-mqtt \\
        --stage decode=ReadingDecoder --stage check=IngestEntryV5check --stage journal=ShardIngress \\
        [--leaves other] [--without overcommit]

--thread picks samples whose thread name contains the text (NIO-SGLTN for the event loops,
which run HTTP and the shard workers; sensorhub-mqtt; overcommit for the flush).
--without drops every 50 ms during which that thread had 5 samples or more (a flush
falling inside the load). --leaves prints a stage's most sampled leaf functions.
"""
import argparse
import collections
import re


def samples(path):
    """(thread, time, [frames from the leaf up]) for each sample of `perf script`."""
    current = None
    for line in open(path, errors="replace"):
        if not line.strip():
            if current:
                yield current
            current = None
        elif not line.startswith((" ", "\t")):
            fields = line.split()
            current = (" ".join(fields[:-1]), float(fields[-1].rstrip(":")), [])
        elif current is not None:
            parts = line.strip().split(None, 1)
            current[2].append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1]) if len(parts) > 1 else "?")
    if current:
        yield current


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("script", help="output of perf script -F comm,time,ip,sym (with -g samples)")
    parser.add_argument("--thread", required=True)
    parser.add_argument("--stage", action="append", default=[], metavar="NAME=REGEX")
    parser.add_argument("--leaves", action="append", default=[], metavar="STAGE")
    parser.add_argument("--without", metavar="THREAD")
    a = parser.parse_args()
    stages = [tuple(s.split("=", 1)) for s in a.stage]
    every = list(samples(a.script))
    if a.without:
        busy = collections.Counter(int(t / 0.05) for c, t, _ in every if a.without in c)
        every = [s for s in every if busy[int(s[1] / 0.05)] < 5]
    picked = [s for s in every if a.thread in s[0]]
    if not picked:
        raise SystemExit(f"no samples of a thread named like {a.thread!r}")
    counts, leaves = collections.Counter(), collections.defaultdict(collections.Counter)
    for _, _, stack in picked:
        stage = next((name for name, pattern in stages if any(re.search(pattern, f) for f in stack)), "other")
        counts[stage] += 1
        leaves[stage][stack[0][:110] if stack else "?"] += 1
    print(f"{len(picked)} samples of {a.thread}")
    for stage, n in counts.most_common():
        print(f"{100 * n / len(picked):5.1f}% {stage}")
    for stage in a.leaves:
        print(f"== {stage}")
        for leaf, n in leaves[stage].most_common(20):
            print(f"   {100 * n / len(picked):5.2f}% {leaf}")


if __name__ == "__main__":
    main()
