"""Allocates and keeps a 200 MiB bytearray on one line (@KEEP), then makes
and drops a 50 MiB temporary (@TEMP), then computes in Python for about
0.3 s of CPU (@WORK) so that the program lives well past the engine's
first drain (see test_short_program_memory_is_attributed for the short
case).  TRUTH: the bytearray's size (len and sys.getsizeof), and the
times (seconds since the program started) around each step."""
import json
import sys
import time

START = time.perf_counter()
SIZE = 200 * 1024 * 1024
TEMP = 50 * 1024 * 1024


def burn(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        for i in range(1000):  # @WORK
            n += i * i % 7  # @WORK
    return n


t_keep0 = time.perf_counter() - START
big = bytearray(SIZE)  # @KEEP
t_keep1 = time.perf_counter() - START
tmp = bytearray(TEMP)  # @TEMP
tmp = None
t_temp1 = time.perf_counter() - START
burn(0.3)
print("TRUTH " + json.dumps({
    "len": len(big), "getsizeof": sys.getsizeof(big), "temp": TEMP,
    "t_keep0": t_keep0, "t_keep1": t_keep1, "t_temp1": t_temp1,
    "wall": time.perf_counter() - START,
}), flush=True)
