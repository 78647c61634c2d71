"""Allocation-heavy: builds and drops lists of tuples and dicts.

Each round builds a table of records as tuples, turns every row into a
dict (with a small list inside), groups the dicts by key into a dict of
lists, aggregates per group into fresh tuples, sorts them, and drops
everything before the next round: millions of small objects made and
freed through pymalloc, plus the large list and dict tables that grow
through realloc.

Written for libscalenecore's overhead benchmark (full-profiling mode).
Prints on stdout BENCH_WORK_SECONDS <wall seconds spent in the workload>
and BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

ROWS = 60_000
ROUNDS = 10


def build(rows, seed):
    table = [(i, (i * 7919 + seed) % 10007 * 0.25, f"k{(i * 31 + seed) % 997}")
             for i in range(rows)]
    recs = [{"id": i, "x": x, "key": k, "tags": [k, i & 7, x > 1000.0]}
            for i, x, k in table]
    groups = {}
    for r in recs:
        groups.setdefault(r["key"], []).append(r)
    summary = [(k, len(v), sum(r["x"] for r in v), max(r["id"] for r in v))
               for k, v in groups.items()]
    summary.sort(key=lambda t: (-t[2], t[0]))
    pairs = {(a["id"], b["id"]): a["x"] - b["x"]
             for a, b in zip(recs[::2], recs[1::2])}
    return len(recs), len(groups), summary[0], len(pairs)


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    check = 0
    for rnd in range(ROUNDS):
        n, g, top, p = build(ROWS, rnd)
        check += n + g + p + top[1]
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"alloc_records: {ROUNDS} rounds of {ROWS} rows, check {check}, "
          f"top {top}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
