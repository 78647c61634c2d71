"""Small objects through pymalloc: one line makes and drops 1,000,000
bytes objects of 100 bytes (the CHURN line, nothing held), another keeps
500,000 of them (HOLD).  A bytes object of 100 bytes asks the object
allocator for sys.getsizeof(bytes(100)) = 133 bytes, under pymalloc's
512-byte limit, so every request is one the allocator wrappers sample.
TRUTH: the bytes each line asked for, and the allocator CPython runs."""
import json
import sys

N_CHURN, N_HOLD, SIZE = 1_000_000, 500_000, 100


def churn(times):
    b = None
    for i in range(times):
        b = bytes(SIZE)  # @CHURN
    return b


churn(N_CHURN)
held = [bytes(SIZE) for _ in range(N_HOLD)]  # @HOLD
each = sys.getsizeof(held[0])
print("TRUTH " + json.dumps({
    "churn_bytes": N_CHURN * each,
    "hold_bytes": N_HOLD * each,
    "allocator": sys._xoptions.get("malloc") or __import__("os").environ.get("PYTHONMALLOC", ""),
}), flush=True)
