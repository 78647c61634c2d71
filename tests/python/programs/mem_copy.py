"""Lines that copy large buffers with memcpy/memmove (50 MiB each), then
the conversions list(array), np.array(list) and array.tolist() of a 50 MiB
float64 array.

@BYTES bytes(bytearray), @SLICE bytes[1:], @CONCAT bytearray + bytearray
(two 50 MiB copies), @NPCOPY ndarray.copy(), @TOBYTES ndarray.tobytes():
each copies its buffer with one memcpy (checked with an LD_PRELOAD
counter of memcpy/memmove outside the suite).  @TOLIST list(ndarray) and
@FROMLIST np.array(list): numpy 2.x converts element by element without
calling memcpy/memmove for the data (the same counter saw 160 bytes in 7
calls, and 320 bytes in 1 call): each element goes through the dtype's
copyswap or setitem, which scalene wraps (src/_npcopy.c).  @TOFLOATS
ndarray.tolist(): each element through the dtype's getitem.
TRUTH: the bytes each line copies (by what it does), the run's wall time."""
import json
import sys
import time

import numpy as np

START = time.perf_counter()
MIB = 1024 * 1024
N = 50 * MIB

src = bytearray(N)
b1 = bytes(src)  # @BYTES
b2 = b1[1:]  # @SLICE
b3 = src + src  # @CONCAT
arr = np.ones(N // 8)
c = arr.copy()  # @NPCOPY
t = arr.tobytes()  # @TOBYTES
as_list = list(arr)  # @TOLIST
back = np.array(as_list)  # @FROMLIST
del as_list, back
floats = arr.tolist()  # @TOFLOATS
del floats
end = time.thread_time() + 0.2
k = 0
while time.thread_time() < end:
    k += 1
print("TRUTH " + json.dumps({
    "copied": {"@BYTES": N, "@SLICE": N - 1, "@CONCAT": 2 * N, "@NPCOPY": N,
               "@TOBYTES": N, "@TOLIST": N, "@FROMLIST": N, "@TOFLOATS": N},
    "wall": time.perf_counter() - START,
    "loader": type(np.__loader__).__name__,
    "spec_loader": type(np.__spec__.loader).__name__,
    "finders": [type(f).__module__ + "." + type(f).__name__ for f in sys.meta_path],
}), flush=True)
