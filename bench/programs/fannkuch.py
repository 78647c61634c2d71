"""Pancake-flipping permutation benchmark (list slicing and indexing).

For every permutation of 0..n-1, repeatedly reverse the prefix whose length
is given by the first element until 0 comes first; report the most flips and
a signed checksum.  Permutations are enumerated with Heap's algorithm
(iterative form) so that the parity of each permutation is known.

Written for libscalenecore's overhead benchmark.  Prints on stdout
BENCH_WORK_SECONDS <wall seconds spent in the workload> and
BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

N = 9
REPEAT = 4


def count_flips(perm):
    p = perm[:]
    flips = 0
    first = p[0]
    while first:
        p[:first + 1] = p[first::-1]
        flips += 1
        first = p[0]
    return flips


def fannkuch(n):
    perm = list(range(n))
    c = [0] * n
    max_flips = 0
    checksum = 0
    sign = 1
    f = count_flips(perm)
    max_flips = f
    checksum += f
    i = 1
    while i < n:
        if c[i] < i:
            if i % 2 == 0:
                perm[0], perm[i] = perm[i], perm[0]
            else:
                k = c[i]
                perm[k], perm[i] = perm[i], perm[k]
            sign = -sign
            if perm[0]:
                f = count_flips(perm)
                if f > max_flips:
                    max_flips = f
                checksum += sign * f
            c[i] += 1
            i = 1
        else:
            c[i] = 0
            i += 1
    return max_flips, checksum


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(REPEAT):
        max_flips, checksum = fannkuch(N)
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"fannkuch({N}): max flips {max_flips}, checksum {checksum}",
          file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
