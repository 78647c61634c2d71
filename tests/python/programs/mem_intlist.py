"""Builds and keeps a list of 5 million distinct ints (@LIST).  The ints
start at 10**6, far from CPython's cached small ints (-5..256), so every
element is its own int object.

With MEM_TRUTH=tracemalloc in the environment (a separate run, without
the profiler), the program measures that line itself with tracemalloc
(bytes traced after minus before: the list and every int object, as
requested from CPython's allocators) and, as a cross-check, with
sys.getsizeof(list) + the sum of sys.getsizeof of the ints; TRUTH has
both.  Without it, the program only runs the line (the profiled run is
not disturbed by any measuring), then computes for about 0.3 s."""
import json
import os
import sys
import time

N = 5_000_000
BASE = 10 ** 6
measure = os.environ.get("MEM_TRUTH") == "tracemalloc"
if measure:
    import tracemalloc
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]

numbers = list(range(BASE, BASE + N))  # @LIST

if measure:
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    by_sizeof = sys.getsizeof(numbers) + sum(map(sys.getsizeof, numbers))
    print("TRUTH " + json.dumps({"tracemalloc": traced, "getsizeof": by_sizeof,
                                 "n": len(numbers)}), flush=True)
else:
    end = time.thread_time() + 0.3
    k = 0
    while time.thread_time() < end:
        k += 1
    print("TRUTH " + json.dumps({"n": len(numbers)}), flush=True)
