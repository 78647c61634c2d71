"""Allocation- and copy-heavy: string and bytes building.

Builds text line by line with f-strings, appends to a growing str with +=
(which CPython grows in place with realloc), joins lists of pieces,
transforms whole texts (replace, upper, split and join again), encodes
and decodes, and grows a bytearray: many small strings through pymalloc,
and large buffers made, copied (memcpy/memmove) and freed through malloc.

Written for libscalenecore's overhead benchmark (full-profiling mode).
Prints on stdout BENCH_WORK_SECONDS <wall seconds spent in the workload>
and BENCH_WORK_CPU_SECONDS <process CPU seconds spent in it>.
"""

import sys
import time

LINES = 40_000
ROUNDS = 20
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu"]


def make_text(lines, seed):
    acc = ""
    parts = []
    for i in range(lines):
        w = WORDS[(i * 7 + seed) % len(WORDS)]
        line = f"{i:06d} {w} {w.upper()} {i * 0.125:.3f} {w[::-1]}\n"
        if i % 4 == 0:
            acc += line  # grows in place: realloc
        else:
            parts.append(line)
    return acc + "".join(parts)


def transform(text):
    t = text.replace("alpha", "ALPHA-ALPHA").replace("mu", "m")
    words = t.split()
    t2 = " ".join(reversed(words))
    data = t2.encode("utf-8")
    buf = bytearray()
    for k in range(0, len(data), 4096):
        buf += data[k:k + 4096]
        buf += b"|"
    back = bytes(buf).decode("utf-8")
    return len(words), len(back), back.count("|")


def main():
    c0 = time.process_time()
    t0 = time.perf_counter()
    check = 0
    for rnd in range(ROUNDS):
        text = make_text(LINES, rnd)
        nw, nb, bars = transform(text)
        lines = text.splitlines()
        keyed = {ln[:6]: ln[7:] for ln in lines}
        check += nw + nb + bars + len(keyed)
    t1 = time.perf_counter()
    c1 = time.process_time()
    print(f"alloc_strings: {ROUNDS} rounds of {LINES} lines, check {check}",
          file=sys.stderr)
    print(f"BENCH_WORK_SECONDS {t1 - t0:.6f}")
    print(f"BENCH_WORK_CPU_SECONDS {c1 - c0:.6f}")


if __name__ == "__main__":
    main()
