"""Allocation-heavy with numpy: array temporaries, large and small.

Evaluates array expressions written the straightforward way, so that every
operator makes a temporary array (malloc and free of 80 KB - 8 MB buffers),
on large arrays (1M float64) and in a loop over many small ones (1,000
elements, where the Python-level overhead and small allocations dominate).

Needs numpy; without it the program prints BENCH_SKIP and exits 0, and
the benchmark leaves it out.

Written for libscalenecore's overhead benchmark (full-profiling mode).
Prints on stdout BENCH_WORK_SECONDS <wall seconds spent in the workload>
and BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import os
import sys
import time

# One thread in BLAS/OpenMP pools, so that only the program's own thread
# does work: the benchmark compares wall times.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    import numpy as np
except ImportError:
    print("BENCH_SKIP numpy is not installed")
    sys.exit(0)

BIG = 1_000_000
BIG_ROUNDS = 50
SMALL = 1_000
SMALL_ROUNDS = 48_000


def big(rounds):
    x = np.linspace(0.0, 1.0, BIG)
    y = np.cos(x)
    acc = 0.0
    for r in range(rounds):
        z = (x * 2.0 + y * 3.0 - np.sqrt(x * x + y * y)) / (1.0 + r)
        w = np.where(z > 0.5, z, -z) + np.abs(y - x)
        acc += float(w.sum())
    return acc


def small(rounds):
    rng = np.random.default_rng(7)
    x = rng.random(SMALL)
    acc = 0.0
    for r in range(rounds):
        y = x * (r % 5 + 1) + 0.5
        z = np.concatenate((y[: SMALL // 2], x[SMALL // 2:])) ** 2
        acc += float((z - y).mean())
    return acc


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    a = big(BIG_ROUNDS)
    b = small(SMALL_ROUNDS)
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"alloc_numpy: {a:.6g} {b:.6g}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
