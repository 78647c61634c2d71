"""16 threads allocate and free bytearrays concurrently (robustness and
totals under the sampling allocator).

Each thread allocates bytearrays of random sizes (1 KiB - 256 KiB), keeps
at most 8 of them (a random one is dropped when a ninth comes), and counts
the bytes it asked for; at the end every thread has freed everything.
argv[1]: seconds to run (default 30); argv[2]: threads (default 16).
TRUTH: bytes and allocations per thread, wall time."""
import json
import random
import sys
import threading
import time

DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
NTHREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
MIN_SIZE, MAX_SIZE = 1024, 256 * 1024
KEEP = 8

nbytes = [0] * NTHREADS
nallocs = [0] * NTHREADS
barrier = threading.Barrier(NTHREADS + 1)


def worker(k):
    rng = random.Random(k)
    sizes = [rng.randint(MIN_SIZE, MAX_SIZE) for _ in range(4096)]
    held = []
    total = 0
    count = 0
    barrier.wait()
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        for size in sizes:
            buf = bytearray(size)  # @ALLOC
            held.append(buf)
            if len(held) > KEEP:
                del held[rng.randrange(KEEP + 1)]
        total += sum(sizes)
        count += len(sizes)
    del buf
    held.clear()
    nbytes[k] = total
    nallocs[k] = count


threads = [threading.Thread(target=worker, args=(k,), name=f"alloc-{k}")
           for k in range(NTHREADS)]
for t in threads:
    t.start()
barrier.wait()
t0 = time.monotonic()
for t in threads:
    t.join()
print("TRUTH " + json.dumps({
    "bytes": nbytes, "allocs": nallocs, "wall": time.monotonic() - t0,
}), flush=True)
