"""Two pure-Python functions doing work in a 3:1 ratio of CPU time.

Each runs a contiguous stretch of CPU time (measured with thread_time, so
the split holds on any machine).  TRUTH reports each one's CPU and wall
time and the program's: the profiler charges a single-threaded program its
wall time (CPU, plus time off the CPU, waiting for a core on a busy machine
included), so the wall times are what its percentages are of."""
import json
import time

START_CPU = time.thread_time()
START_WALL = time.perf_counter()
UNIT = 0.3  # seconds of CPU for work_b; work_a does three times that


def work_a(budget):  # @A
    end = time.thread_time() + budget  # @A
    n = 0  # @A
    while time.thread_time() < end:  # @A
        for i in range(2000):  # @A
            n += i * i % 7  # @A
    return n  # @A


def work_b(budget):  # @B
    end = time.thread_time() + budget  # @B
    n = 0  # @B
    while time.thread_time() < end:  # @B
        for i in range(2000):  # @B
            n += i * i % 7  # @B
    return n  # @B


# an inactive line, for the viewer's --reduced test  # @INACTIVE
c0, w0 = time.thread_time(), time.perf_counter()
work_a(3 * UNIT)
c1, w1 = time.thread_time(), time.perf_counter()
work_b(UNIT)
c2, w2 = time.thread_time(), time.perf_counter()
print("TRUTH " + json.dumps({
    "a_cpu": c1 - c0, "b_cpu": c2 - c1,
    "a_wall": w1 - w0, "b_wall": w2 - w1,
    "main_cpu": time.thread_time() - START_CPU,
    "main_wall": time.perf_counter() - START_WALL,
}), flush=True)
