"""Computes for a while, then sleeps as long: the sleeping line should be
about half of the run, all of it system (off-CPU) time.  TRUTH has the
sleep, the main thread's CPU and the program's wall time (which is what the
profiler charges a single-threaded program: its CPU plus its time off the
CPU, waiting for a core on a busy machine included)."""
import json
import time

START_CPU = time.thread_time()
START_WALL = time.perf_counter()
BUDGET = 0.6


def compute(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end:
        for i in range(2000):  # @COMPUTE
            n += i * i % 7  # @COMPUTE
    return n


compute(BUDGET)
w0 = time.perf_counter()
time.sleep(BUDGET)  # @SLEEP
slept = time.perf_counter() - w0
print("TRUTH " + json.dumps({
    "slept": slept,
    "main_cpu": time.thread_time() - START_CPU,
    "main_wall": time.perf_counter() - START_WALL,
}), flush=True)
