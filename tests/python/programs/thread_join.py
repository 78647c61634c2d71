"""A worker thread computes (pure Python) while the main thread waits in
join(); TRUTH has the worker's CPU time and the main thread's wait."""
import json
import threading
import time

START_CPU = time.thread_time()
BUDGET = 0.8
result = {}


def worker():
    t0 = time.thread_time()
    end = t0 + BUDGET
    n = 0
    while time.thread_time() < end:
        for i in range(2000):  # @WORKER
            n += i * i % 7  # @WORKER
    result["cpu"] = time.thread_time() - t0


t = threading.Thread(target=worker, name="busy-worker")
t.start()
w0 = time.perf_counter()
t.join()  # @JOIN
waited = time.perf_counter() - w0
print("TRUTH " + json.dumps({
    "worker_cpu": result["cpu"],
    "join_wait": waited,
    "main_cpu": time.thread_time() - START_CPU,
}), flush=True)
