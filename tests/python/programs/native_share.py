"""Lines that mix Python work and one native call, on the same line.

Each marked line is a one-line `while` loop: a native call (zlib.compress
of a buffer, or sorted() of a list of floats) timed with thread_time on the
same line, then a list comprehension (Python work) on the same line.  The
list comprehension's size is calibrated so that both halves take about the
same time on this machine.  TRUTH gives each line's native share as
measured with the clocks: native seconds / the line's seconds."""
import json
import random
import time
import zlib

thread_time = time.thread_time
BUDGET = 0.8  # seconds of CPU per line

# Each native call and each list comprehension lasts tens of milliseconds,
# several sampling intervals, so the profile's split does not hang on where
# a few samples happen to land.
random.seed(1)
BUF = random.randbytes(2 << 20)  # 2 MiB that do not compress well
FLOATS = [random.random() for _ in range(300000)]


def calibrate(native_call):
    """How many list-comprehension items cost as much as one native call."""
    best_native = best_py = None
    for _ in range(3):
        t = thread_time(); native_call(); d = thread_time() - t
        best_native = d if best_native is None else min(best_native, d)
        t = thread_time(); [k * k % 7 for k in range(20000)]; d = thread_time() - t
        best_py = d if best_py is None else min(best_py, d)
    return max(1000, int(20000 * best_native / max(best_py, 1e-9)))


def zlib_line(n):
    native = 0.0
    start = thread_time()
    end = start + BUDGET
    while thread_time() < end: t0 = thread_time(); zlib.compress(BUF, 6); native += thread_time() - t0; junk = [k * k % 7 for k in range(n)]  # @ZLIB
    return native, thread_time() - start


def sort_line(n):
    native = 0.0
    start = thread_time()
    end = start + BUDGET
    while thread_time() < end: t0 = thread_time(); sorted(FLOATS); native += thread_time() - t0; junk = [k * k % 7 for k in range(n)]  # @SORT
    return native, thread_time() - start


nz = calibrate(lambda: zlib.compress(BUF, 6))
ns = calibrate(lambda: sorted(FLOATS))
zn, zt = zlib_line(nz)
sn, st = sort_line(ns)
print("TRUTH " + json.dumps({
    "zlib_native_share": zn / zt,
    "sort_native_share": sn / st,
    "zlib_seconds": zt,
    "sort_seconds": st,
}), flush=True)
