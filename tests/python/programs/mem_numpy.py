"""Allocates and keeps a 100 MiB numpy array (float64, np.ones: numpy's
own malloc, not CPython's allocator, so native memory), then computes
for about 0.3 s.  TRUTH: the array's nbytes."""
import json
import time

import numpy as np

N = 100 * 1024 * 1024 // 8

arr = np.ones(N)  # @NUMPY
end = time.thread_time() + 0.3
n = 0
while time.thread_time() < end:
    n += int(arr[n % N])  # @WORK
print("TRUTH " + json.dumps({"nbytes": int(arr.nbytes)}), flush=True)
