"""Spectral norm of the infinite matrix A(i, j) = 1 / ((i+j)(i+j+1)/2 + i + 1),
approximated by power iteration on A^T A (nested loops, float division).

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

SIZE = 520
ITERATIONS = 10


def a_elem(i, j):
    s = i + j
    return 1.0 / (s * (s + 1) // 2 + i + 1)


def mul_av(v, n):
    out = []
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += a_elem(i, j) * v[j]
        out.append(acc)
    return out


def mul_atv(v, n):
    out = []
    for i in range(n):
        acc = 0.0
        for j in range(n):
            acc += a_elem(j, i) * v[j]
        out.append(acc)
    return out


def mul_atav(v, n):
    return mul_atv(mul_av(v, n), n)


def spectral_norm(n, iterations):
    u = [1.0] * n
    v = u
    for _ in range(iterations):
        v = mul_atav(u, n)
        u = mul_atav(v, n)
    vbv = vv = 0.0
    for ue, ve in zip(u, v):
        vbv += ue * ve
        vv += ve * ve
    return (vbv / vv) ** 0.5


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    norm = spectral_norm(SIZE, ITERATIONS)
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"spectral norm ({SIZE}) = {norm:.9f}", file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
