"""A line that allocates and drops 64 KiB bytearrays as fast as Python
can, 4 GiB in all (@FAST): tens of thousands of sampled allocations and
frees in a fraction of a second, from one thread.  TRUTH: the bytes
asked for and the loop's wall time."""
import json
import time

BLOCK = 64 * 1024
COUNT = 4 * 1024 * 1024 * 1024 // BLOCK

t0 = time.perf_counter()
for _ in range(COUNT):
    buf = bytearray(BLOCK)  # @FAST
buf = None
wall = time.perf_counter() - t0
end = time.thread_time() + 0.2
k = 0
while time.thread_time() < end:
    k += 1
print("TRUTH " + json.dumps({"bytes": COUNT * BLOCK, "count": COUNT, "wall": wall}),
      flush=True)
